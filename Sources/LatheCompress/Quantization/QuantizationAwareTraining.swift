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

  public let config: QuantizationAwareTrainingConfig

  public init(_ config: QuantizationAwareTrainingConfig) { self.config = config }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let c = config
    let candidates = Int8Quantize.quantizableLayers(of: model)
    let chosen = c.layers ?? candidates
    try c.source.checkChosen(chosen, among: candidates, kind: "quantizable layer")
    context.report(0, "calibrating starting ranges")
    let ranges = try Calibrator.inputRanges(
      of: model, layers: Set(chosen), data: context.data.train, samples: c.calibrationSamples,
      method: .minMax, percentile: 100, symmetric: false)
    if c.comparePTQ {
      // The copy is taken before the layers below change: it is post-training int8 of the input.
      let ptq = model.copy()
      for name in chosen {
        guard let node = ptq.nodes.first(where: { $0.name == name }), let range = ranges[name] else { continue }
        Int8Conversion.convert(
          ptq, node: name, layer: node.layer, input: .fixed(.unsigned(low: range.0, high: range.1, symmetric: false)),
          granularity: .perChannel)
      }
      context.findings.ptqAccuracy = Double(Evaluator.accuracy(of: ptq, on: context.data.test))
    }
    for name in chosen {
      guard let node = model.nodes.first(where: { $0.name == name }), let range = ranges[name] else { continue }
      let observer = RangeObserver(low: range.0, high: range.1, decay: c.emaDecay)
      model.replaceLayer(named: name, with: FakeQuantizedLayer(wrapping: node.layer, observer: observer))
    }
    try c.training.train(
      model, on: context.data.train, context: context, from: 0.05, to: 0.95, label: "quantization-aware training")
    context.findings.fakeQuantAccuracy = Double(Evaluator.accuracy(of: model, on: context.data.test))
    context.report(0.97, "converting to int8")
    for name in chosen {
      guard let fake = model.nodes.first(where: { $0.name == name })?.layer as? FakeQuantizedLayer else { continue }
      Int8Conversion.convert(
        model, node: name, layer: fake.wrapped, input: .fixed(fake.observer.parameters), granularity: .perChannel)
    }
    return model
  }
}

/// The calibration, range tracking and training of quantization-aware training.
public struct QuantizationAwareTrainingConfig: TechniqueConfig {
  public var training: TrainingSettings
  /// Training examples that set the starting activation ranges.
  public var calibrationSamples: Int
  /// Weight of the old range per batch in the moving average.
  public var emaDecay: Float
  /// Also measure post-training int8 of the input model (reported as ptq_accuracy).
  public var comparePTQ: Bool
  /// Layers to quantize; nil quantizes every Linear and Conv2d.
  public var layers: [String]?
  public var source: SettingSource

  public init(
    training: TrainingSettings = .defaults(epochs: 2, learningRate: 0.002), calibrationSamples: Int = 512,
    emaDecay: Float = 0.99, comparePTQ: Bool = true, layers: [String]? = nil, source: SettingSource = .code("qat")
  ) {
    self.training = training
    self.calibrationSamples = calibrationSamples
    self.emaDecay = emaDecay
    self.comparePTQ = comparePTQ
    self.layers = layers
    self.source = source
  }

  public init(_ p: StepParameters) throws {
    self.init(
      training: TrainingSettings(p), calibrationSamples: p.int("calibration_samples"), emaDecay: p.float("ema_decay"),
      comparePTQ: p.bool("compare_ptq"), layers: p.isSet("layers") ? p.strings("layers") : nil, source: p.source)
  }
}
