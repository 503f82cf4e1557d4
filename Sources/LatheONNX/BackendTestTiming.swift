import Foundation
import LatheTensor

extension BackendTestRunner {
  /// How long one test data set takes on the engine: `lathe onnx-test --time ROUNDS`, which
  /// scripts/real-models-bench.sh sets beside ONNX Runtime on the same inputs.
  public struct SetTiming: Sendable, Codable, Equatable {
    /// The folder's name, test_data_set_N.
    public var set: String
    public var rounds: Int
    /// Median and fastest run, in milliseconds.
    public var medianMilliseconds: Double
    public var minimumMilliseconds: Double
    /// Tensors fed at run time. 0 when every input was integer and so bound as a constant at
    /// import: then the importer may have folded the whole graph and the runs time next to nothing.
    public var inputsAtRunTime: Int
  }

  /// One warm-up run (first-touch allocations, the thread pool waking), then `rounds` runs of the
  /// graph already imported: import time is not counted, only `ONNXGraph.run`.
  static func time(_ set: String, _ graph: ONNXGraph, _ runtime: [Tensor<Float>], rounds: Int) throws(ONNXError)
    -> SetTiming
  {
    _ = try graph.checkedRun(runtime)
    var samples: [Double] = []
    for _ in 0..<max(rounds, 1) {
      let start = DispatchTime.now().uptimeNanoseconds
      _ = try graph.checkedRun(runtime)
      samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    samples.sort()
    return SetTiming(
      set: set, rounds: samples.count, medianMilliseconds: LatencyMeasurement.percentile(samples, 0.5),
      minimumMilliseconds: samples[0], inputsAtRunTime: runtime.count)
  }
}
