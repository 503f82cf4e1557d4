import Foundation
import LatheTensor

/// Post-training int8 quantization: weights to s8 (per channel or per tensor), activations to
/// u8 with ranges calibrated on training examples (static) or measured per batch (dynamic).
/// Linear and Conv2d layers become int8 layers running the VNNI/AVX2 kernels; a ReLU that
/// follows one is folded into its output stage.
public struct Int8Quantize: Technique {
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

  public let config: Int8QuantizeConfig

  public init(_ config: Int8QuantizeConfig) { self.config = config }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let c = config
    let dynamic = c.activations == .dynamicRange
    let candidates = Self.quantizableLayers(of: model)
    let chosen = c.layers ?? candidates
    try c.source.checkChosen(chosen, among: candidates, kind: "quantizable layer")
    context.report(0, dynamic ? "quantizing weights" : "calibrating on \(c.calibrationSamples) examples")
    let ranges =
      dynamic
      ? [:]
      : try Calibrator.inputRanges(
        of: model, layers: Set(chosen), data: context.data.train, samples: c.calibrationSamples,
        method: c.calibration, percentile: c.percentile, symmetric: c.symmetric, context: context)
    for name in chosen {
      guard let node = model.nodes.first(where: { $0.name == name }) else { continue }
      let input: InputQuantization =
        dynamic
        ? .dynamic(symmetric: c.symmetric)
        : .fixed(.unsigned(low: ranges[name]!.0, high: ranges[name]!.1, symmetric: c.symmetric))
      Int8Conversion.convert(model, node: name, layer: node.layer, input: input, granularity: c.granularity)
    }
    return model
  }

  /// The layers int8 conversion handles: every Linear and every groups-1 Conv2d.
  static func quantizableLayers(of model: Model) -> [String] {
    model.nodes.filter { $0.layer is Linear || ($0.layer as? Conv2d)?.groups == 1 }.map(\.name)
  }
}

/// How `quantize` turns weights and activations into int8.
public struct Int8QuantizeConfig: TechniqueConfig {
  public var granularity: QuantizationGranularity
  public var activations: ActivationQuantization
  /// How static activation ranges are chosen (unused for dynamic activations).
  public var calibration: CalibrationMethod
  /// For percentile calibration.
  public var percentile: Double
  /// Training examples used to calibrate.
  public var calibrationSamples: Int
  /// Symmetric activation ranges (zero point 128).
  public var symmetric: Bool
  /// Layers to quantize; nil quantizes every Linear and Conv2d.
  public var layers: [String]?
  public var source: SettingSource

  public init(
    granularity: QuantizationGranularity = .perChannel, activations: ActivationQuantization = .staticRange,
    calibration: CalibrationMethod = .minMax, percentile: Double = 99.99, calibrationSamples: Int = 512,
    symmetric: Bool = false, layers: [String]? = nil, source: SettingSource = .code("quantize")
  ) {
    self.granularity = granularity
    self.activations = activations
    self.calibration = calibration
    self.percentile = percentile
    self.calibrationSamples = calibrationSamples
    self.symmetric = symmetric
    self.layers = layers
    self.source = source
  }

  public init(_ p: StepParameters) throws {
    self.init(
      granularity: QuantizationGranularity(rawValue: p.string("granularity"))!,
      activations: ActivationQuantization(rawValue: p.string("activations"))!,
      calibration: CalibrationMethod(rawValue: p.string("calibration"))!, percentile: p.double("percentile"),
      calibrationSamples: p.int("calibration_samples"), symmetric: p.bool("symmetric"),
      layers: p.isSet("layers") ? p.strings("layers") : nil, source: p.source)
  }
}
