import Foundation
import LatheTensor

/// Quantization-aware training: Linear and Conv2d layers train through fake quantization
/// (per-channel s8 weights, u8 inputs with exponential-moving-average ranges, straight-through
/// gradients), starting from min/max ranges calibrated on training data; then they become the
/// same int8 layers `quantize` makes, with the learned ranges. The weights adapt to the
/// rounding, so accuracy holds where post-training quantization loses some.
public struct QuantizationAwareTraining: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "qat",
    summary: "Quantization-aware training (fake-quant, straight-through), then int8 layers.",
    parameters: TrainingSettings.descriptors(epochs: 2, learningRate: 0.002) + [
      ParameterDescriptor(
        "calibration_samples", .int(1...100_000), default: .int(512),
        help: "training examples that set the starting activation ranges"),
      ParameterDescriptor(
        "ema_decay", .float(0...0.99999), default: .float(0.99), help: "weight of the old range per batch"),
      ParameterDescriptor(
        "compare_ptq", .bool, default: .bool(true),
        help: "also measure post-training int8 of the input model (reported as ptq_accuracy)"),
      ParameterDescriptor("layers", .list, default: nil, help: "layers to quantize (default: every Linear and Conv2d)"),
    ],
    needsTrainableModel: true)

  let parameters: StepParameters
  let configuration: TrainingConfiguration

  public init(_ p: StepParameters) throws {
    parameters = p
    configuration = TrainingSettings.configuration(p)
  }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let p = parameters
    let result = model.copy()
    let candidates = result.nodes.filter { $0.layer is Linear || ($0.layer as? Conv2d)?.groups == 1 }.map(\.name)
    let chosen = p.isSet("layers") ? p.strings("layers") : candidates
    for name in chosen where !candidates.contains(name) {
      throw StepFailure(
        p.error("layers", "no quantizable layer \"\(name)\"; layers: \(candidates.joined(separator: ", "))").description
      )
    }
    context.report(0, "calibrating starting ranges")
    let ranges = try Calibrator.inputRanges(
      of: result, layers: Set(chosen), data: context.data.train, samples: p.int("calibration_samples"),
      method: .minMax, percentile: 100, symmetric: false)
    if p.bool("compare_ptq") {
      let ptq = model.copy()
      for name in chosen {
        guard let node = ptq.nodes.first(where: { $0.name == name }), let range = ranges[name] else { continue }
        Int8Conversion.convert(
          ptq, node: name, layer: node.layer, input: .fixed(.unsigned(low: range.0, high: range.1, symmetric: false)),
          granularity: .perChannel)
      }
      context.extra["ptq_accuracy"] = Double(Evaluator.accuracy(of: ptq, on: context.data.test))
    }
    for name in chosen {
      guard let node = result.nodes.first(where: { $0.name == name }), let range = ranges[name] else { continue }
      let observer = RangeObserver(low: range.0, high: range.1, decay: p.float("ema_decay"))
      result.replaceLayer(named: name, with: FakeQuantizedLayer(wrapping: node.layer, observer: observer))
    }
    _ = try context.train(
      result, on: context.data.train, configuration, from: 0.05, to: 0.95, label: "quantization-aware training",
      loss: try TrainingSettings.loss(p, context: context))
    context.extra["fake_quant_accuracy"] = Double(Evaluator.accuracy(of: result, on: context.data.test))
    context.report(0.97, "converting to int8")
    for name in chosen {
      guard let fake = result.nodes.first(where: { $0.name == name })?.layer as? FakeQuantizedLayer else { continue }
      Int8Conversion.convert(
        result, node: name, layer: fake.wrapped, input: .fixed(fake.observer.parameters), granularity: .perChannel)
    }
    return result
  }
}
