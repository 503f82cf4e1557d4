import Foundation

/// Functions with known optima, for checking and benchmarking samplers on [0, 1]^d.
public struct TestFunction: Sendable {
  public var name: String
  public var dimensions: Int
  /// The global minimum (for single-objective functions).
  public var minimum: Double
  public var objectives: Int
  public var evaluate: @Sendable ([Double]) -> [Double]

  /// Branin–Hoo on [−5, 10] × [0, 15]; minimum 0.397887 at three points.
  public static let branin = TestFunction(name: "branin", dimensions: 2, minimum: 0.397887, objectives: 1) { u in
    let x = -5 + 15 * u[0]
    let y = 15 * u[1]
    let a = 1.0
    let b = 5.1 / (4 * Double.pi * Double.pi)
    let c = 5 / Double.pi
    let r = 6.0
    let s = 10.0
    let t = 1 / (8 * Double.pi)
    let term = y - b * x * x + c * x - r
    return [a * term * term + s * (1 - t) * cos(x) + s]
  }

  /// Hartmann-6 on [0, 1]^6; minimum −3.32237.
  public static let hartmann6 = TestFunction(name: "hartmann6", dimensions: 6, minimum: -3.32237, objectives: 1) {
    x in
    let alpha = [1.0, 1.2, 3.0, 3.2]
    let a: [[Double]] = [
      [10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14],
    ]
    let p: [[Double]] = [
      [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886], [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
      [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650], [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
    ]
    var total = 0.0
    for i in 0..<4 {
      var inner = 0.0
      for j in 0..<6 { inner += a[i][j] * (x[j] - p[i][j]) * (x[j] - p[i][j]) }
      total += alpha[i] * exp(-inner)
    }
    return [-total]
  }

  /// ZDT1 with `d` variables: two objectives, Pareto front f2 = 1 − √f1 where x2...xd = 0.
  public static func zdt1(dimensions d: Int = 6) -> TestFunction {
    TestFunction(name: "zdt1", dimensions: d, minimum: 0, objectives: 2) { x in
      let g = 1 + 9 * x.dropFirst().reduce(0, +) / Double(max(x.count - 1, 1))
      return [x[0], g * (1 - (x[0] / g).squareRoot())]
    }
  }

  public static let named: [String: TestFunction] = ["branin": branin, "hartmann6": hartmann6, "zdt1": zdt1()]
}

/// Runs a sampler on a test function without a journal or processes: what tests and
/// `lathe search --benchmark` use to compare samplers.
public enum SamplerBenchmark {
  /// Loss of each trial in order (for several objectives, the loss vectors).
  /// With `stopAt`, a run ends once a trial reaches that value (what counting trials-to-target needs).
  public static func run(
    _ sampler: any Sampler, on function: TestFunction, trials: Int, seed: UInt64, stopAt: Double? = nil
  ) -> [[Double]] {
    var history: [Observation] = []
    let dimensions = Array(repeating: UnitDimension.continuous, count: function.dimensions)
    for t in 0..<trials {
      if let stopAt, let last = history.last?.losses, last[0] <= stopAt { break }
      let context = SamplerContext(
        dimensions: dimensions, trial: t, totalTrials: trials, objectives: function.objectives, history: history,
        seed: seed)
      let x = sampler.suggest(context)
      history.append(Observation(unit: x, losses: function.evaluate(x)))
    }
    return history.map { $0.losses! }
  }

  /// Best value so far after each trial (single objective).
  public static func bestSoFar(_ losses: [[Double]]) -> [Double] {
    var best = Double.infinity
    return losses.map {
      best = min(best, $0[0])
      return best
    }
  }

  /// Trials needed to come within `tolerance` (relative) of the function's minimum, or nil.
  public static func trialsToReach(_ losses: [[Double]], _ function: TestFunction, tolerance: Double = 0.01) -> Int? {
    let target = function.minimum + tolerance * abs(function.minimum)
    return losses.firstIndex { $0[0] <= target }.map { $0 + 1 }
  }
}
