import Foundation

/// One earlier trial as a sampler sees it: where it was, and what came out (objectives to
/// minimize), or nil while it runs or when it failed.
public struct Observation: Sendable, Equatable {
  public var unit: [Double]
  public var losses: [Double]?
  /// 0 when the trial met every constraint; otherwise how far it missed them.
  public var violation: Double

  public init(unit: [Double], losses: [Double]?, violation: Double = 0) {
    self.unit = unit
    self.losses = losses
    self.violation = violation
  }

  public var isFinished: Bool { losses != nil }
}

/// Everything a sampler may use to choose trial `trial`'s point: samplers keep no state of their
/// own, so a study resumed from its journal, or shared by several processes, chooses as one would.
public struct SamplerContext: Sendable {
  public var dimensions: [UnitDimension]
  public var trial: Int
  public var totalTrials: Int
  public var objectives: Int
  /// The study's earlier trials: `history[i]` is trial i, finished ones with results, running ones without.
  public var history: [Observation]
  public var seed: UInt64

  public init(
    dimensions: [UnitDimension], trial: Int, totalTrials: Int, objectives: Int = 1, history: [Observation],
    seed: UInt64
  ) {
    self.dimensions = dimensions
    self.trial = trial
    self.totalTrials = totalTrials
    self.objectives = objectives
    self.history = history
    self.seed = seed
  }

  /// This trial's own random stream.
  public func random(_ salt: UInt64 = 0) -> SearchRandom { SearchRandom(seed: seed, stream: trial, salt: salt) }

  /// A uniform point, snapped to the dimensions' bins.
  public func uniformPoint(_ rng: inout SearchRandom) -> [Double] { dimensions.map { $0.snap(rng.unit()) } }

  /// Finished trials as (point, one number to minimize). Several objectives become one by a
  /// random augmented Chebyshev weighting drawn per trial (ParEGO), so single-objective samplers
  /// still spread over the front. Trials that miss a constraint rank after every one that meets them.
  public func scalarHistory() -> [(unit: [Double], y: Double)] { indexedScalarHistory().map { ($0.unit, $0.y) } }

  /// `scalarHistory` with each trial's index in `history` (its trial number).
  public func indexedScalarHistory() -> [(index: Int, unit: [Double], y: Double)] {
    let indices = history.indices.filter { history[$0].isFinished }
    let finished = indices.map { history[$0] }
    guard !finished.isEmpty else { return [] }
    var ys: [Double]
    if objectives <= 1 {
      ys = finished.map { $0.losses![0] }
    } else {
      var rng = random(0x5CA1A7)
      var weights = (0..<objectives).map { _ in -log(max(rng.unit(), 1e-12)) }
      let total = weights.reduce(0, +)
      weights = weights.map { $0 / total }
      let lows = (0..<objectives).map { i in finished.map { $0.losses![i] }.min()! }
      let highs = (0..<objectives).map { i in finished.map { $0.losses![i] }.max()! }
      ys = finished.map { o in
        let losses: [Double] = o.losses!
        let scaled: [Double] = (0..<objectives).map { (i: Int) -> Double in
          let span: Double = max(highs[i] - lows[i], 1e-12)
          return weights[i] * (losses[i] - lows[i]) / span
        }
        return scaled.max()! + 0.05 * scaled.reduce(0, +)
      }
    }
    let feasible = zip(finished, ys).filter { $0.0.violation == 0 }.map(\.1)
    if feasible.count < finished.count {
      let worst = feasible.max() ?? ys.max()!
      let spread = max((feasible.max() ?? 0) - (feasible.min() ?? 0), 1)
      ys = zip(finished, ys).map { o, y in o.violation == 0 ? y : worst + spread * (1 + o.violation) }
    }
    return indices.indices.map { (indices[$0], finished[$0].unit, ys[$0]) }
  }

  /// Points of trials still running: samplers avoid suggesting them again.
  public var pending: [[Double]] { history.filter { !$0.isFinished }.map(\.unit) }
}

/// Chooses where the next trial goes in [0, 1]^d. Implementations are value types without state:
/// all they know comes from the context, which makes them reproducible and resumable.
public protocol Sampler: Sendable {
  var name: String { get }
  func suggest(_ context: SamplerContext) -> [Double]
}

/// The samplers by name.
public enum Samplers {
  public static let names = ["grid", "random", "tpe", "gp", "pso", "nsga2"]

  public static func named(_ name: String) -> (any Sampler)? {
    switch name {
    case "grid": return GridSampler()
    case "random": return RandomSampler()
    case "tpe": return TPESampler()
    case "gp": return GaussianProcessSampler()
    case "pso": return ParticleSwarmSampler()
    case "nsga2": return NSGA2Sampler()
    default: return nil
    }
  }
}

/// Uniform random points: the baseline every other sampler must beat.
public struct RandomSampler: Sampler {
  public init() {}
  public var name: String { "random" }
  public func suggest(_ context: SamplerContext) -> [Double] {
    var rng = context.random()
    return context.uniformPoint(&rng)
  }
}

/// Walks a grid in a seeded order: levels per dimension chosen so the grid has at least as
/// many points as the study has trials (ints and choices use their own values when fewer).
public struct GridSampler: Sampler {
  public init() {}
  public var name: String { "grid" }

  public static func levels(_ dimensions: [UnitDimension], trials: Int) -> [Int] {
    // Saturates: many large choices multiply past Int.max, and the grid is then far beyond any trial count.
    let fixed = dimensions.reduce(1) { n, d in
      guard d.isCategorical, let count = countOf(d) else { return n }
      let (product, overflow) = n.multipliedReportingOverflow(by: count)
      return overflow ? Int.max : product
    }
    let free = dimensions.filter { !$0.isCategorical }.count
    let per =
      free == 0 ? 1 : max(2, Int(ceil(pow(Double(max(trials, 1)) / Double(fixed), 1 / Double(free)) - 1e-9)))
    return dimensions.map { d in
      switch d {
      case .continuous: return per
      case .ordered(let n): return min(n, per)
      case .categorical(let n): return n
      }
    }
  }

  private static func countOf(_ d: UnitDimension) -> Int? {
    switch d {
    case .continuous: return nil
    case .ordered(let n), .categorical(let n): return n
    }
  }

  public func suggest(_ context: SamplerContext) -> [Double] {
    let levels = Self.levels(context.dimensions, trials: context.totalTrials)
    let size = levels.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
    var index = context.trial % max(size, 1)
    if size <= 1 << 20 {
      // A seeded permutation, so a study stopped early has covered the grid evenly.
      var order = Array(0..<size)
      var rng = SearchRandom(seed: context.seed, stream: -1)
      for i in stride(from: size - 1, to: 0, by: -1) { order.swapAt(i, rng.index(i + 1)) }
      index = order[index]
    }
    return zip(context.dimensions, levels).map { d, n in
      let level = index % n
      index /= n
      switch d {
      case .continuous: return n == 1 ? 0.5 : Double(level) / Double(n - 1)
      case .ordered(let count), .categorical(let count):
        let value = n == count ? level : Int((Double(level) / Double(max(n - 1, 1)) * Double(count - 1)).rounded())
        return (Double(value) + 0.5) / Double(count)
      }
    }
  }
}
