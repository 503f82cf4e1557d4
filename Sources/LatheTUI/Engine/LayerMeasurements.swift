import Foundation
import LatheTensor

/// The per-layer numbers the Model panel shows beside the weights, measured by running the
/// model: each layer's share of the run time, and how far each layer's output has moved from
/// the model as opened. `EngineSession` takes them once per snapshot on its engine queue,
/// never per frame.
enum LayerMeasurements {
  /// Each node's share 0...1 of the summed per-layer times at the batch of `feeds` (real
  /// kernels timed by `LayerTimes`: at least 3 runs and 1 ms per layer, at most 50 runs); empty
  /// when the model cannot run on them.
  static func latencyShares(_ model: Model, feeds: [Tensor<Float>]) -> [String: Double] {
    let times = try? RunFailure.checking {
      LayerTimes.measure(model, feeds: feeds, minimumRuns: 3, maximumRuns: 50, minimumMicroseconds: 1000)
    }
    return LayerTimes.shares(times ?? [:])
  }

  /// Above this many activation elements the original's outputs are not kept for comparison
  /// (256 MB of floats): a large language model at a long example would not fit beside itself.
  static let comparedElementLimit = 64 << 20

  /// The model as opened, run once on the feeds every snapshot is compared on: each node's
  /// output, by name. A session keeps one and compares every step's model with it, rather than
  /// running the original again after each step.
  struct Reference {
    let original: Model
    let outputs: [String: Tensor<Float>]

    /// Nil when `original` cannot run on `feeds` or its outputs pass `comparedElementLimit`.
    init?(_ original: Model, feeds: [Tensor<Float>]) {
      guard let outputs = LayerMeasurements.outputs(of: original, feeds: feeds) else { return nil }
      (self.original, self.outputs) = (original, outputs)
    }
  }

  /// Each node's output SQNR in dB against the same node's in `reference`, both run on `feeds`
  /// (the feeds the reference was made on): 10·log10(Σ ref² / Σ (ref − out)²), infinity when
  /// equal. A node that a ReLU was folded into is compared with the original's ReLU after it,
  /// since its output now includes it. Nodes the original lacks, whose shape changed (channels
  /// pruned away) or whose reference is all zeros have none.
  static func outputSQNR(_ model: Model, reference: Reference, feeds: [Tensor<Float>]) -> [String: Double] {
    let current = Set(model.nodes.map(\.name))
    // The original's ReLU that each layer folded in, by the layer's name.
    var foldedReLU: [String: String] = [:]
    for node in reference.original.nodes where !current.contains(node.name) && node.inputs.count == 1 {
      if (node.layer as? Function)?.kind == .relu { foldedReLU[node.inputs[0]] = node.name }
    }
    var result: [String: Double] = [:]
    let pass = {
      GradientRecording.disabled {
        var context = ForwardContext.inference
        _ = model.forward(feeds: feeds.map { Variable($0) }, context: &context) { node, _, output in
          var compared = node.name
          if (node.layer as? ReLUFolding)?.relu == true, let relu = foldedReLU[node.name] { compared = relu }
          guard let expected = reference.outputs[compared], expected.shape == output.shape else { return }
          result[node.name] = sqnr(reference: expected, output: output.value)
        }
      }
    }
    _ = try? RunFailure.checking(pass)
    return result
  }

  /// Every node's output in one pass of `model`, or nil when the model cannot run on `feeds`
  /// or its outputs together pass `comparedElementLimit`.
  fileprivate static func outputs(of model: Model, feeds: [Tensor<Float>]) -> [String: Tensor<Float>]? {
    var values: [String: Tensor<Float>] = [:]
    var elements = 0
    let pass = {
      GradientRecording.disabled {
        var context = ForwardContext.inference
        _ = model.forward(feeds: feeds.map { Variable($0) }, context: &context) { node, _, output in
          elements += output.value.count
          if elements <= comparedElementLimit { values[node.name] = output.value }
        }
      }
    }
    guard (try? RunFailure.checking(pass)) != nil, elements <= comparedElementLimit else { return nil }
    return values
  }

  /// Signal-to-noise ratio of `output` against `reference` in dB; infinity when equal, nil
  /// when the reference is all zeros (there is no signal to compare with).
  static func sqnr(reference: Tensor<Float>, output: Tensor<Float>) -> Double? {
    var (signal, noise) = (0.0, 0.0)
    reference.withUnsafeBufferPointer { r in
      output.withUnsafeBufferPointer { o in
        for i in 0..<min(r.count, o.count) {
          let (a, b) = (Double(r[i]), Double(o[i]))
          signal += a * a
          noise += (a - b) * (a - b)
        }
      }
    }
    guard signal > 0, signal.isFinite, noise.isFinite else { return nil }
    return noise == 0 ? .infinity : 10 * log10(signal / noise)
  }
}
