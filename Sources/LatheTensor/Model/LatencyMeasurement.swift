import Foundation

/// Wall-clock latency of real forward passes, the numbers Lathe reports as "latency".
public struct LatencyMeasurement: Sendable, Codable, Equatable {
  public var batchSize: Int
  public var runs: Int
  /// Median and 95th percentile of one forward pass, in microseconds.
  public var p50Microseconds: Double
  public var p95Microseconds: Double

  /// Times `model.predict` on a fixed random batch at the model's example size (see
  /// `measure(_:feeds:batchSize:minimumRuns:maximumRuns:minimumSeconds:maximumSeconds:)`).
  public static func measure(
    _ model: Model, batchSize: Int, minimumRuns: Int = 20, maximumRuns: Int = 2000, minimumSeconds: Double = 0.3,
    maximumSeconds: Double = .infinity
  ) -> LatencyMeasurement {
    var generator = SeededGenerator(seed: 1)
    let input = model.exampleFeeds(batchSize: batchSize, generator: &generator)
    return measure(
      model, feeds: input, batchSize: batchSize, minimumRuns: minimumRuns, maximumRuns: maximumRuns,
      minimumSeconds: minimumSeconds, maximumSeconds: maximumSeconds)
  }

  /// Times `model.predict` on `feeds` (a batch of `batchSize`): warm-up passes, then passes
  /// until `minimumRuns` and `minimumSeconds` are both reached, or `maximumRuns`, or (after at
  /// least one timed pass) `maximumSeconds` of timed passes. One warm-up pass only when it alone
  /// took more than a tenth of `maximumSeconds`, three otherwise.
  public static func measure(
    _ model: Model, feeds: [Tensor<Float>], batchSize: Int, minimumRuns: Int = 20, maximumRuns: Int = 2000,
    minimumSeconds: Double = 0.3, maximumSeconds: Double = .infinity
  ) -> LatencyMeasurement {
    let warm = DispatchTime.now().uptimeNanoseconds
    _ = model.predict(feeds: feeds)
    if Double(DispatchTime.now().uptimeNanoseconds - warm) / 1e9 <= maximumSeconds / 10 {
      for _ in 0..<2 { _ = model.predict(feeds: feeds) }
    }
    var samples: [Double] = []
    let start = DispatchTime.now().uptimeNanoseconds
    while samples.count < maximumRuns {
      let t0 = DispatchTime.now().uptimeNanoseconds
      _ = model.predict(feeds: feeds)
      let t1 = DispatchTime.now().uptimeNanoseconds
      samples.append(Double(t1 - t0) / 1000)
      let elapsed = Double(t1 - start) / 1e9
      if samples.count >= minimumRuns && elapsed >= minimumSeconds { break }
      if elapsed >= maximumSeconds { break }
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

/// The two latencies Lathe reports for a model, batch 1 and a larger batch, timed on a
/// dataset's own examples (a model with open sizes runs at the data's size, not at the made-up
/// example size its file was given) within a time budget.
public struct LatencyPlan: Sendable, Equatable {
  /// Seconds spent timing each figure (more is steadier).
  public var seconds: Double
  /// The larger batch, when one pass at it is affordable.
  public var largestBatch: Int
  /// The most one timed pass of the larger batch may take, estimated from batch 1 as
  /// `batch × p50(batch 1)`: the larger batch is the largest power of two up to
  /// `largestBatch` within it (2 at least; none when even batch 2 is over).
  public var passBudgetSeconds: Double
  /// The most timing one figure may take once a single pass is slow: passes stop after this
  /// much (at least one timed pass runs).
  public var figureBudgetSeconds: Double

  public init(
    seconds: Double = 0.3, largestBatch: Int = 256, passBudgetSeconds: Double = 0.25, figureBudgetSeconds: Double = 2
  ) {
    self.seconds = seconds
    self.largestBatch = largestBatch
    self.passBudgetSeconds = passBudgetSeconds
    self.figureBudgetSeconds = max(figureBudgetSeconds, seconds)
  }

  /// The larger batch for a model whose batch-1 pass takes `p50Microseconds`: 1 when no batch
  /// of 2 or more fits `passBudgetSeconds`.
  public func largeBatch(afterBatch1 p50Microseconds: Double) -> Int {
    var batch = 1
    while batch * 2 <= largestBatch && Double(batch * 2) * p50Microseconds / 1e6 <= passBudgetSeconds { batch *= 2 }
    return batch
  }

  /// Batch 1, then the larger batch (`batch`, or the one `largeBatch(afterBatch1:)` chooses):
  /// both on `data`'s examples (repeated when the batch is larger than the data) when it can
  /// feed the model, else on the model's random example feeds. When the larger batch is 1 the
  /// second figure is the first one.
  public func measure(_ model: Model, on data: Dataset?, batch: Int? = nil) -> (
    one: LatencyMeasurement, large: LatencyMeasurement
  ) {
    let one = LatencyMeasurement.measure(
      model, feeds: model.timingFeeds(batchSize: 1, from: data), batchSize: 1, minimumRuns: 30,
      minimumSeconds: seconds, maximumSeconds: figureBudgetSeconds)
    let size = batch ?? largeBatch(afterBatch1: one.p50Microseconds)
    guard size > 1 else { return (one, one) }
    let large = LatencyMeasurement.measure(
      model, feeds: model.timingFeeds(batchSize: size, from: data), batchSize: size, minimumRuns: 5,
      minimumSeconds: seconds, maximumSeconds: figureBudgetSeconds)
    return (one, large)
  }
}

extension Model {
  /// Whether `data` can feed this model: examples there, its extra inputs present, and for a
  /// model without open sizes, as many values per example as it reads.
  public func canRun(on data: Dataset) -> Bool {
    data.count > 0 && missingFeeds(in: data) == nil
      && (!symbolicAxes.isEmpty || inputShape.reduce(1, *) == data.sampleShape.reduce(1, *))
  }

  /// Feeds of `batchSize` examples for timing: `data`'s first examples, repeated as needed,
  /// when it can feed the model; otherwise `exampleFeeds` (random, at the example size).
  public func timingFeeds(batchSize: Int, from data: Dataset?) -> [Tensor<Float>] {
    guard let data, canRun(on: data) else {
      var generator = SeededGenerator(seed: 1)
      return exampleFeeds(batchSize: batchSize, generator: &generator)
    }
    let rows =
      data.count >= batchSize ? data.slice(0..<batchSize) : data.subset((0..<batchSize).map { $0 % data.count })
    return feeds(rows, 0..<batchSize)
  }
}
