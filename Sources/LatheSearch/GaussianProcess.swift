import Foundation

/// A Gaussian-process regression on [0, 1]^d with a Matérn-5/2 kernel and one length scale per
/// dimension: small (a study has tens to hundreds of points), so a plain Cholesky is enough.
struct GaussianProcess {
  let points: [[Double]]
  let lengthScales: [Double]
  let noise: Double
  /// Lower Cholesky factor of K + noise·I, row-major n×n.
  private(set) var factor: [Double] = []
  /// (K + noise·I)⁻¹ y.
  private(set) var alpha: [Double] = []
  private(set) var logLikelihood = -Double.infinity

  /// Fits to `y` (already standardized: mean 0, variance 1). Returns nil when K is not positive definite.
  init?(points: [[Double]], y: [Double], lengthScales: [Double], noise: Double) {
    self.points = points
    self.lengthScales = lengthScales
    self.noise = noise
    let n = points.count
    var k = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0...i {
        let v = Self.kernel(points[i], points[j], lengthScales)
        k[i * n + j] = v
        k[j * n + i] = v
      }
      k[i * n + i] += noise
    }
    guard let factor = Self.cholesky(k, n) else { return nil }
    self.factor = factor
    alpha = Self.solveUpper(factor, n, Self.solveLower(factor, n, y))
    var logDet = 0.0
    for i in 0..<n { logDet += log(factor[i * n + i]) }
    logLikelihood = -0.5 * zip(y, alpha).reduce(0) { $0 + $1.0 * $1.1 } - logDet - 0.5 * Double(n) * log(2 * .pi)
  }

  static func kernel(_ a: [Double], _ b: [Double], _ scales: [Double]) -> Double {
    var r2 = 0.0
    for d in a.indices {
      let t = (a[d] - b[d]) / scales[d]
      r2 += t * t
    }
    let r = (5 * r2).squareRoot()
    return (1 + r + r * r / 3) * exp(-r)
  }

  /// Posterior mean and variance at `x`.
  func predict(_ x: [Double]) -> (mean: Double, variance: Double) {
    let n = points.count
    let ks = points.map { Self.kernel($0, x, lengthScales) }
    let mean = zip(ks, alpha).reduce(0) { $0 + $1.0 * $1.1 }
    let v = Self.solveLower(factor, n, ks)
    let variance = max(1 + noise - v.reduce(0) { $0 + $1 * $1 }, 1e-12)
    return (mean, variance)
  }

  static func cholesky(_ a: [Double], _ n: Int) -> [Double]? {
    var l = [Double](repeating: 0, count: n * n)
    let ok = l.withUnsafeMutableBufferPointer { l -> Bool in
      a.withUnsafeBufferPointer { a -> Bool in
        for j in 0..<n {
          var s = a[j * n + j]
          for k in 0..<j { s -= l[j * n + k] * l[j * n + k] }
          guard s > 1e-12 else { return false }
          let d = s.squareRoot()
          l[j * n + j] = d
          for i in (j + 1)..<max(n, j + 1) {
            var t = a[i * n + j]
            for k in 0..<j { t -= l[i * n + k] * l[j * n + k] }
            l[i * n + j] = t / d
          }
        }
        return true
      }
    }
    return ok ? l : nil
  }

  static func solveLower(_ l: [Double], _ n: Int, _ b: [Double]) -> [Double] {
    var x = b
    l.withUnsafeBufferPointer { l in
      for i in 0..<n {
        var s = x[i]
        for k in 0..<i { s -= l[i * n + k] * x[k] }
        x[i] = s / l[i * n + i]
      }
    }
    return x
  }

  static func solveUpper(_ l: [Double], _ n: Int, _ b: [Double]) -> [Double] {
    var x = b
    l.withUnsafeBufferPointer { l in
      for i in stride(from: n - 1, through: 0, by: -1) {
        var s = x[i]
        for k in (i + 1)..<max(n, i + 1) { s -= l[k * n + i] * x[k] }
        x[i] = s / l[i * n + i]
      }
    }
    return x
  }
}

/// Bayesian optimization with a Gaussian process and expected improvement. Length scales and
/// noise come from a small grid search on the marginal likelihood (one shared scale first, then
/// one coordinate sweep per dimension), refitted for every suggestion. Running trials enter as
/// "kriging believer" points at their predicted mean, so parallel workers spread out.
public struct GaussianProcessSampler: Sampler {
  public var startupTrials: Int?
  public var randomCandidates: Int

  public init(startupTrials: Int? = nil, randomCandidates: Int = 1000) {
    self.startupTrials = startupTrials
    self.randomCandidates = randomCandidates
  }

  public var name: String { "gp" }

  static let scaleGrid: [Double] = [0.03, 0.06, 0.12, 0.25, 0.5, 1, 2, 4]
  static let noiseGrid: [Double] = [1e-6, 1e-3, 3e-2]

  public func suggest(_ context: SamplerContext) -> [Double] {
    var rng = context.random()
    let d = context.dimensions.count
    let data = context.scalarHistory()
    guard data.count >= (startupTrials ?? max(5, d + 1)) else { return context.uniformPoint(&rng) }
    let ys = data.map(\.y)
    let mean = ys.reduce(0, +) / Double(ys.count)
    let sd = max((ys.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(ys.count)).squareRoot(), 1e-12)
    var points = data.map(\.unit)
    var y = ys.map { ($0 - mean) / sd }
    // Length scales from at most 80 points (the best 40 and a spread of the rest): the grid
    // search costs a Cholesky per grid point, and the final fit below uses every point.
    var fitIndices = Array(y.indices)
    if y.count > 80 {
      let order = y.indices.sorted { y[$0] < y[$1] }
      let rest = order.dropFirst(40)
      fitIndices =
        Array(order.prefix(40))
        + stride(from: 0, to: rest.count, by: max(rest.count / 40, 1)).map {
          rest[rest.startIndex + $0]
        }
    }
    guard let tuned = Self.fit(fitIndices.map { points[$0] }, fitIndices.map { y[$0] }, dimensions: d),
      var gp = GaussianProcess(points: points, y: y, lengthScales: tuned.lengthScales, noise: tuned.noise)
    else { return context.uniformPoint(&rng) }
    let pending = context.pending
    if !pending.isEmpty {
      for p in pending {
        points.append(p)
        y.append(gp.predict(p).mean)
      }
      if let refit = GaussianProcess(points: points, y: y, lengthScales: gp.lengthScales, noise: gp.noise) {
        gp = refit
      }
    }
    let incumbent = y.prefix(data.count).min() ?? 0
    func ei(_ x: [Double]) -> Double {
      let (mu, variance) = gp.predict(x)
      let s = variance.squareRoot()
      let z = (incumbent - mu) / s
      return (incumbent - mu) * Gaussian.cdf(z) + s * Gaussian.pdf(z)
    }
    var candidates = (0..<randomCandidates).map { _ in context.uniformPoint(&rng) }
    // Local candidates around the best trials: EI's maximum is usually near one of them.
    let best = data.indices.sorted { data[$0].y < data[$1].y }.prefix(5)
    for i in best {
      for scale in [0.01, 0.05, 0.15] {
        for _ in 0..<30 {
          candidates.append(
            zip(data[i].unit, context.dimensions).map { u, dim in dim.snap(u + scale * rng.normal()) })
        }
      }
    }
    var top = candidates[0]
    var topScore = -Double.infinity
    for c in candidates {
      let s = ei(c)
      if s > topScore {
        topScore = s
        top = c
      }
    }
    // A short coordinate search from the best candidate.
    var step = 0.02
    for _ in 0..<4 {
      for dim in 0..<d where !context.dimensions[dim].isCategorical {
        for sign in [-1.0, 1.0] {
          var c = top
          c[dim] = context.dimensions[dim].snap(c[dim] + sign * step)
          let s = ei(c)
          if s > topScore {
            topScore = s
            top = c
          }
        }
      }
      step /= 2
    }
    return top
  }

  /// The GP with the best marginal likelihood on the grid.
  static func fit(_ points: [[Double]], _ y: [Double], dimensions d: Int) -> GaussianProcess? {
    var best: GaussianProcess?
    func consider(_ scales: [Double], _ noise: Double) {
      guard let gp = GaussianProcess(points: points, y: y, lengthScales: scales, noise: noise) else { return }
      if gp.logLikelihood > (best?.logLikelihood ?? -.infinity) { best = gp }
    }
    for s in scaleGrid {
      for noise in noiseGrid { consider(Array(repeating: s, count: d), noise) }
    }
    guard let shared = best, d > 1 else { return best }
    var scales = shared.lengthScales
    for dim in 0..<d {
      for s in scaleGrid where s != scales[dim] {
        var trial = scales
        trial[dim] = s
        consider(trial, shared.noise)
      }
      scales = best!.lengthScales
    }
    return best
  }
}
