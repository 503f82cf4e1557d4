import Foundation

/// Pareto dominance, non-dominated sorting, crowding distance and hypervolume, all on losses
/// (every objective minimized).
public enum Pareto {
  /// True when `a` is no worse than `b` in every objective and better in one.
  public static func dominates(_ a: [Double], _ b: [Double]) -> Bool {
    var better = false
    for i in a.indices {
      if a[i] > b[i] { return false }
      if a[i] < b[i] { better = true }
    }
    return better
  }

  /// Deb's fast non-dominated sort: indices grouped into fronts, best front first. With
  /// `violations`, a point meeting the constraints beats one missing them, and of two missing
  /// them the smaller violation wins (constrained domination).
  public static func fronts(_ losses: [[Double]], violations: [Double]? = nil) -> [[Int]] {
    let n = losses.count
    func beats(_ i: Int, _ j: Int) -> Bool {
      if let v = violations {
        if v[i] == 0 && v[j] > 0 { return true }
        if v[i] > 0 && v[j] > 0 { return v[i] < v[j] }
        if v[i] > 0 { return false }
      }
      return dominates(losses[i], losses[j])
    }
    var dominated = Array(repeating: [Int](), count: n)
    var count = Array(repeating: 0, count: n)
    var current: [Int] = []
    for i in 0..<n {
      for j in 0..<n where i != j {
        if beats(i, j) {
          dominated[i].append(j)
        } else if beats(j, i) {
          count[i] += 1
        }
      }
      if count[i] == 0 { current.append(i) }
    }
    var result: [[Int]] = []
    while !current.isEmpty {
      result.append(current)
      var next: [Int] = []
      for i in current {
        for j in dominated[i] {
          count[j] -= 1
          if count[j] == 0 { next.append(j) }
        }
      }
      current = next
    }
    return result
  }

  /// Crowding distance of each member of one front (infinite at the ends of each objective).
  public static func crowding(_ front: [Int], _ losses: [[Double]]) -> [Int: Double] {
    var distance = Dictionary(uniqueKeysWithValues: front.map { ($0, 0.0) })
    guard let m = front.first.map({ losses[$0].count }), front.count > 2 else {
      return distance.mapValues { _ in .infinity }
    }
    for k in 0..<m {
      let sorted = front.sorted { losses[$0][k] < losses[$1][k] }
      let span = losses[sorted.last!][k] - losses[sorted.first!][k]
      distance[sorted.first!] = .infinity
      distance[sorted.last!] = .infinity
      guard span > 0 else { continue }
      for i in 1..<(sorted.count - 1) {
        distance[sorted[i]]! += (losses[sorted[i + 1]][k] - losses[sorted[i - 1]][k]) / span
      }
    }
    return distance
  }

  /// The volume dominated by `points` and bounded by `reference` (exact, by slicing; fine for
  /// the tens of points and two or three objectives a study has).
  public static func hypervolume(_ points: [[Double]], reference: [Double]) -> Double {
    let inside = points.filter { p in zip(p, reference).allSatisfy { $0 < $1 } }
    return slice(inside, reference, reference.count)
  }

  private static func slice(_ points: [[Double]], _ reference: [Double], _ m: Int) -> Double {
    guard !points.isEmpty else { return 0 }
    if m == 1 { return reference[0] - points.map { $0[0] }.min()! }
    let sorted = points.sorted { $0[m - 1] < $1[m - 1] }
    var volume = 0.0
    for i in sorted.indices {
      let next = i + 1 < sorted.count ? sorted[i + 1][m - 1] : reference[m - 1]
      let height = next - sorted[i][m - 1]
      if height > 0 { volume += height * slice(Array(sorted[0...i]), reference, m - 1) }
    }
    return volume
  }
}

/// NSGA-II (Deb et al., 2002) for several objectives: the finished trials are ranked by
/// constrained non-dominated sorting and crowding distance, the best `population` are the
/// parents, and each new trial is a child of two tournament winners (simulated binary crossover,
/// polynomial mutation). The first `population` trials are random.
public struct NSGA2Sampler: Sampler {
  public var population: Int?
  public var crossoverProbability = 0.9
  public var crossoverEta = 20.0
  public var mutationEta = 20.0

  public init(population: Int? = nil) { self.population = population }

  public var name: String { "nsga2" }

  public static func defaultPopulation(trials: Int) -> Int { min(50, max(8, trials / 8)) }

  public func suggest(_ context: SamplerContext) -> [Double] {
    var rng = context.random()
    let size = population ?? Self.defaultPopulation(trials: context.totalTrials)
    let finished = context.history.indices.filter { context.history[$0].isFinished }
    guard context.trial >= size, finished.count >= 2 else { return context.uniformPoint(&rng) }
    let losses = finished.map { context.history[$0].losses! }
    let violations = finished.map { context.history[$0].violation }
    // Survivors: whole fronts while they fit, then the most spread-out of the next.
    var rank: [Int: Int] = [:]
    var crowd: [Int: Double] = [:]
    var parents: [Int] = []
    for (r, front) in Pareto.fronts(losses, violations: violations).enumerated() where parents.count < size {
      let distance = Pareto.crowding(front, losses)
      let ordered = front.sorted { distance[$0]! > distance[$1]! }
      for i in ordered.prefix(size - parents.count) {
        parents.append(i)
        rank[i] = r
        crowd[i] = distance[i]!
      }
    }
    func tournament() -> [Double] {
      let a = parents[rng.index(parents.count)]
      let b = parents[rng.index(parents.count)]
      let winner = rank[a]! < rank[b]! || (rank[a]! == rank[b]! && crowd[a]! >= crowd[b]!) ? a : b
      return context.history[finished[winner]].unit
    }
    let mother = tournament()
    let father = tournament()
    var child = mother
    let d = context.dimensions.count
    if rng.unit() < crossoverProbability {
      for i in 0..<d {
        if context.dimensions[i].isCategorical {
          if rng.unit() < 0.5 { child[i] = father[i] }
          continue
        }
        guard rng.unit() < 0.5, abs(mother[i] - father[i]) > 1e-12 else { continue }
        let u = rng.unit()
        let beta = u <= 0.5 ? pow(2 * u, 1 / (crossoverEta + 1)) : pow(1 / (2 * (1 - u)), 1 / (crossoverEta + 1))
        let a = 0.5 * ((1 + beta) * mother[i] + (1 - beta) * father[i])
        let b = 0.5 * ((1 - beta) * mother[i] + (1 + beta) * father[i])
        child[i] = rng.unit() < 0.5 ? a : b
      }
    }
    for i in 0..<d where rng.unit() < 1 / Double(d) {
      if case .categorical(let k) = context.dimensions[i] {
        child[i] = (Double(rng.index(k)) + 0.5) / Double(k)
        continue
      }
      let u = rng.unit()
      let delta = u < 0.5 ? pow(2 * u, 1 / (mutationEta + 1)) - 1 : 1 - pow(2 * (1 - u), 1 / (mutationEta + 1))
      child[i] += delta
    }
    return zip(context.dimensions, child).map { $0.snap($1) }
  }
}

/// Particle swarm optimization (Kennedy & Eberhart; constriction constants of Clerc): trial t
/// moves particle t mod S, from where that particle last was, pulled towards its own best and
/// the swarm's best. Positions and velocities are read back from the history, never stored.
public struct ParticleSwarmSampler: Sampler {
  public var swarm: Int?
  public var inertia = 0.7298
  public var cognitive = 1.49618
  public var social = 1.49618

  public init(swarm: Int? = nil) { self.swarm = swarm }

  public var name: String { "pso" }

  public static func defaultSwarm(trials: Int) -> Int { min(20, max(6, trials / 6)) }

  public func suggest(_ context: SamplerContext) -> [Double] {
    var rng = context.random()
    let size = swarm ?? Self.defaultSwarm(trials: context.totalTrials)
    let t = context.trial
    guard t >= size, context.history.count >= t else { return context.uniformPoint(&rng) }
    let scores = Dictionary(uniqueKeysWithValues: context.indexedScalarHistory().map { ($0.index, $0.y) })
    let mine = stride(from: t - size, through: 0, by: -size).map { $0 }
    let last = context.history[t - size].unit
    let previous = t >= 2 * size ? context.history[t - 2 * size].unit : last
    let own =
      mine.filter { scores[$0] != nil }.min { scores[$0]! < scores[$1]! }.map { context.history[$0].unit } ?? last
    let swarmBest = scores.min { $0.value < $1.value }.map { context.history[$0.key].unit } ?? own
    var next = last
    for i in last.indices {
      var v =
        inertia * (last[i] - previous[i]) + cognitive * rng.unit() * (own[i] - last[i])
        + social * rng.unit() * (swarmBest[i] - last[i])
      v = min(max(v, -0.5), 0.5)
      // A particle at rest on the best point would stop exploring: jitter it a little.
      if abs(v) < 1e-4 { v = 0.01 * rng.normal() }
      next[i] = last[i] + v
      if next[i] < 0 { next[i] = -next[i] * 0.5 }
      if next[i] > 1 { next[i] = 1 - (next[i] - 1) * 0.5 }
    }
    return zip(context.dimensions, next).map { $0.snap($1) }
  }
}
