import Foundation

/// Wall-clock latency of real forward passes, the numbers Lathe reports as "latency".
public struct LatencyMeasurement: Sendable, Codable, Equatable {
  public var batchSize: Int
  public var runs: Int
  /// Median and 95th percentile of one forward pass, in microseconds.
  public var p50Microseconds: Double
  public var p95Microseconds: Double

  /// Times `model.predict` on a fixed random batch: a few warm-up passes, then passes until
  /// `minimumRuns` and `minimumSeconds` are both reached (or `maximumRuns`).
  public static func measure(
    _ model: Model, batchSize: Int, minimumRuns: Int = 20, maximumRuns: Int = 2000, minimumSeconds: Double = 0.3
  ) -> LatencyMeasurement {
    var generator = SeededGenerator(seed: 1)
    let input = model.exampleFeeds(batchSize: batchSize, generator: &generator)
    for _ in 0..<3 { _ = model.predict(feeds: input) }
    var samples: [Double] = []
    let start = DispatchTime.now().uptimeNanoseconds
    while samples.count < maximumRuns {
      let t0 = DispatchTime.now().uptimeNanoseconds
      _ = model.predict(feeds: input)
      let t1 = DispatchTime.now().uptimeNanoseconds
      samples.append(Double(t1 - t0) / 1000)
      if samples.count >= minimumRuns && Double(t1 - start) / 1e9 >= minimumSeconds { break }
    }
    samples.sort()
    return LatencyMeasurement(
      batchSize: batchSize, runs: samples.count, p50Microseconds: percentile(samples, 0.5),
      p95Microseconds: percentile(samples, 0.95))
  }

  /// Linear interpolation between closest ranks, on sorted samples.
  public static func percentile(_ sorted: [Double], _ q: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let position = q * Double(sorted.count - 1)
    let low = Int(position.rounded(.down))
    let high = min(low + 1, sorted.count - 1)
    return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
  }
}
