import Foundation
import LatheONNX
import LatheTensor
import LatheWorkspace

/// Where a model's latency goes: each layer's forward timed alone on the inputs it really
/// receives, at batch 1 and 256.
enum LayerProfile {
  struct Row: Encodable {
    var name: String
    var op: String
    var kernel: String
    var batch1Microseconds: Double
    var batch256Microseconds: Double
  }

  static func measure(path: String, quick: Bool) throws -> [Row] {
    let model = try ModelOpener.open(path)
    var perBatch: [Int: [String: Double]] = [:]
    for batch in [1, 256] {
      var g = SeededGenerator(seed: 1)
      let input = Tensor<Float>.uniform([batch] + model.inputShape, low: 0, high: 1, generator: &g)
      var inputs: [String: [Variable]] = [:]
      GradientRecording.disabled {
        var context = ForwardContext.inference
        _ = model.forward(Variable(input), context: &context) { node, i, _ in inputs[node.name] = i }
      }
      for node in model.nodes {
        let runs = batch == 1 ? (quick ? 300 : 2000) : (quick ? 10 : 50)
        var samples: [Double] = []
        GradientRecording.disabled {
          var context = ForwardContext.inference
          for _ in 0..<3 { _ = node.layer.forward(inputs[node.name]!, context: &context) }
          for _ in 0..<runs {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = node.layer.forward(inputs[node.name]!, context: &context)
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
          }
        }
        samples.sort()
        perBatch[batch, default: [:]][node.name] = LatencyMeasurement.percentile(samples, 0.5)
      }
    }
    return model.nodes.map { node in
      Row(
        name: node.name, op: node.layer.op, kernel: node.layer.kernelName,
        batch1Microseconds: perBatch[1]![node.name]!, batch256Microseconds: perBatch[256]![node.name]!)
    }
  }

  static func table(_ rows: [Row]) -> String {
    var lines = ["layer        op                 kernel                      b1 p50 µs   b256 p50 µs"]
    for r in rows {
      lines.append(
        r.name.padding(toLength: 12, withPad: " ", startingAt: 0) + " "
          + r.op.padding(toLength: 18, withPad: " ", startingAt: 0) + " "
          + r.kernel.padding(toLength: 26, withPad: " ", startingAt: 0)
          + String(format: "  %9.2f   %11.1f", r.batch1Microseconds, r.batch256Microseconds))
    }
    let b1 = rows.reduce(0) { $0 + $1.batch1Microseconds }
    let b256 = rows.reduce(0) { $0 + $1.batch256Microseconds }
    lines.append(String(format: "sum of layers%@  %9.2f   %11.1f", String(repeating: " ", count: 46), b1, b256))
    return lines.joined(separator: "\n")
  }
}
