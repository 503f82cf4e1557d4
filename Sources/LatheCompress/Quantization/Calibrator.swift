import Foundation
import LatheTensor

/// Collects the values flowing into chosen layers over calibration batches and picks each
/// layer's input range.
public enum Calibrator {
  public static func inputRanges(
    of model: Model, layers: Set<String>, data: Dataset, samples: Int, method: CalibrationMethod, percentile: Double,
    symmetric: Bool, context: StepContext? = nil
  ) throws -> [String: (Float, Float)] {
    let count = min(samples, data.count)
    var observed: [String: [Float]] = [:]
    var start = 0
    while start < count {
      try context?.checkCancellation()
      let end = min(start + 128, count)
      let batch = model.feeds(data, start..<end).map { Variable($0) }
      GradientRecording.disabled {
        var forward = ForwardContext.inference
        _ = model.forward(feeds: batch, context: &forward) { node, inputs, _ in
          if layers.contains(node.name) { observed[node.name, default: []] += inputs[0].value.scalars }
        }
      }
      start = end
      context?.report(0.8 * Double(start) / Double(count), "calibrating (\(start)/\(count) examples)")
    }
    return observed.mapValues { method.range(of: $0, percentile: percentile, symmetric: symmetric) }
  }
}
