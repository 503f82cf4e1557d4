import Foundation

/// Where a model's time goes: each node's forward timed alone, the moment a real forward pass
/// reaches it, on the inputs it was just given. Only one node's inputs are alive at a time, so
/// a model whose activations do not all fit in memory at once can still be timed. `lathe bench
/// --layers` prints these; the workbench's Model panel shows each node's share of their sum.
public enum LayerTimes {
  /// Median microseconds of each node's forward on `feeds`, by node name. Each node runs twice
  /// untimed, then timed until `minimumRuns` runs and `minimumMicroseconds` of them are done,
  /// or `maximumRuns` runs.
  public static func measure(
    _ model: Model, feeds: [Tensor<Float>], minimumRuns: Int, maximumRuns: Int, minimumMicroseconds: Double = 0
  ) -> [String: Double] {
    var times: [String: Double] = [:]
    GradientRecording.disabled {
      var context = ForwardContext.inference
      _ = model.forward(feeds: feeds.map { Variable($0) }, context: &context) { node, inputs, _ in
        var timing = ForwardContext.inference
        for _ in 0..<2 { withExtendedLifetime(node.layer.forward(inputs, context: &timing)) {} }
        var samples: [Double] = []
        var spent = 0.0
        while samples.count < maximumRuns && (samples.count < minimumRuns || spent < minimumMicroseconds) {
          let start = DispatchTime.now().uptimeNanoseconds
          withExtendedLifetime(node.layer.forward(inputs, context: &timing)) {}
          samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
          spent += samples.last!
        }
        samples.sort()
        times[node.name] = LatencyMeasurement.percentile(samples, 0.5)
      }
    }
    return times
  }

  /// Each node's share 0...1 of the summed times (`measure`), by name; empty when nothing took
  /// measurable time.
  public static func shares(_ times: [String: Double]) -> [String: Double] {
    let total = times.values.reduce(0, +)
    guard total > 0 else { return [:] }
    return times.mapValues { $0 / total }
  }
}
