import Foundation
import LatheTensor

/// Post-training int8 quantization: weights to s8 (per channel or per tensor), activations to
/// u8 with ranges calibrated on training examples (static) or measured per batch (dynamic).
/// Linear and Conv2d layers become int8 layers running the VNNI/AVX2 kernels; a ReLU that
/// follows one is folded into its output stage.
public struct Quantize: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "quantize",
    summary: "int8 weights and activations (post-training): smaller file, integer kernels.",
    parameters: [
      ParameterDescriptor(
        "granularity", .choice(QuantizationGranularity.allCases.map(\.rawValue)), default: .string("per-channel"),
        help: "one weight scale per output channel or one per tensor"),
      ParameterDescriptor(
        "activations", .choice(ActivationQuantization.allCases.map(\.rawValue)), default: .string("static"),
        help: "static: calibrated ranges; dynamic: measured on every batch"),
      ParameterDescriptor(
        "calibration", .choice(CalibrationMethod.allCases.map(\.rawValue)), default: .string("minmax"),
        help: "how static activation ranges are chosen"),
      ParameterDescriptor("percentile", .float(50...100), default: .float(99.99), help: "for percentile calibration"),
      ParameterDescriptor(
        "calibration_samples", .int(1...100_000), default: .int(512), help: "training examples used to calibrate"),
      ParameterDescriptor(
        "symmetric", .bool, default: .bool(false), help: "symmetric activation ranges (zero point 128)"),
      ParameterDescriptor(
        "layers", .list, default: nil, help: "layers to quantize (default: every Linear and Conv2d)"),
    ])

  let parameters: StepParameters

  public init(_ p: StepParameters) throws { parameters = p }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let p = parameters
    let result = model.copy()
    let granularity = QuantizationGranularity(rawValue: p.string("granularity"))!
    let dynamic = p.string("activations") == "dynamic"
    let method = CalibrationMethod(rawValue: p.string("calibration"))!
    let symmetric = p.bool("symmetric")
    let candidates = result.nodes.filter { $0.layer is Linear || ($0.layer as? Conv2d)?.groups == 1 }.map(\.name)
    let chosen = p.isSet("layers") ? p.strings("layers") : candidates
    for name in chosen where !candidates.contains(name) {
      throw StepFailure(
        p.error("layers", "no quantizable layer \"\(name)\"; layers: \(candidates.joined(separator: ", "))").description
      )
    }
    context.report(0, dynamic ? "quantizing weights" : "calibrating on \(p.int("calibration_samples")) examples")
    let ranges =
      dynamic
      ? [:]
      : try Calibrator.inputRanges(
        of: result, layers: Set(chosen), data: context.data.train, samples: p.int("calibration_samples"),
        method: method, percentile: p.double("percentile"), symmetric: symmetric, context: context)
    for name in chosen {
      guard let node = result.nodes.first(where: { $0.name == name }) else { continue }
      let input: InputQuantization =
        dynamic
        ? .dynamic(symmetric: symmetric)
        : .fixed(.unsigned(low: ranges[name]!.0, high: ranges[name]!.1, symmetric: symmetric))
      Int8Conversion.convert(result, node: name, layer: node.layer, input: input, granularity: granularity)
    }
    return result
  }
}

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
      let batch = data.inputs.sliced(axis: 0, start..<end).reshaped([end - start] + model.inputShape)
      GradientRecording.disabled {
        var forward = ForwardContext.inference
        _ = model.forward(Variable(batch), context: &forward) { node, inputs, _ in
          if layers.contains(node.name) { observed[node.name, default: []] += inputs[0].value.scalars }
        }
      }
      start = end
      context?.report(0.8 * Double(start) / Double(count), "calibrating (\(start)/\(count) examples)")
    }
    return observed.mapValues { method.range(of: $0, percentile: percentile, symmetric: symmetric) }
  }
}
