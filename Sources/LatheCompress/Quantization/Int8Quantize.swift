import Foundation
import LatheIO
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
      ParameterDescriptor("skip", .list, default: nil, help: "layers to keep in fp32"),
      ParameterDescriptor(
        "max_agreement_drop", .float(0...1), default: nil,
        help:
          "keep the most int8-sensitive layers in fp32 until top-1 agreement with the step's input drops at most this much"
      ),
      ParameterDescriptor(
        "sensitivity_samples", .int(1...100_000), default: .int(256),
        help: "training examples the sensitivity and the agreement budget are measured on"),
    ])

  public let config: Int8QuantizeConfig

  public init(_ config: Int8QuantizeConfig) { self.config = config }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let c = config
    var (chosen, convert) = try prepare(model, context: context)
    if let budget = c.maxAgreementDrop {
      let data = context.data.train.slice(0..<min(c.sensitivitySamples, context.data.train.count))
      let plan = try QuantizationSensitivity.skipList(
        for: model, layers: chosen, maxAgreementDrop: budget, convert: convert, data: data, context: context)
      chosen.removeAll { plan.skipped.contains($0) }
      context.findings.int8SkipList = plan
      if let folder = context.outputDirectory, !plan.rows.isEmpty {
        try AtomicFile.write(
          QuantizationSensitivity.csv(plan.rows, skipped: plan.skipped),
          to: folder.appendingPathComponent("\(c.source.stepName)-sensitivity.csv"))
      }
    }
    try convert(model, chosen)
    return model
  }

  /// The layers this step quantizes (calibrated when activations are static) and the function
  /// that converts any of them in a copy of `model`, for sensitivity trials and the real thing.
  func prepare(_ model: Model, context: StepContext) throws -> ([String], QuantizationSensitivity.Convert) {
    let c = config
    let dynamic = c.activations == .dynamicRange
    let candidates = Self.quantizableLayers(of: model)
    var chosen = c.layers ?? candidates
    try c.source.checkChosen(chosen, among: candidates, kind: "quantizable layer")
    try c.source.checkChosen(c.skip, among: candidates, kind: "quantizable layer", key: "skip")
    chosen.removeAll { c.skip.contains($0) }
    context.report(0, dynamic ? "quantizing weights" : "calibrating on \(c.calibrationSamples) examples")
    let ranges =
      dynamic
      ? [:]
      : try Calibrator.inputRanges(
        of: model, layers: Set(chosen), data: context.data.train, samples: c.calibrationSamples,
        method: c.calibration, percentile: c.percentile, symmetric: c.symmetric, context: context)
    let convert: QuantizationSensitivity.Convert = { model, layers in
      for name in layers {
        guard let node = model.nodes.first(where: { $0.name == name }) else { continue }
        let input: InputQuantization =
          dynamic
          ? .dynamic(symmetric: c.symmetric)
          : .fixed(.unsigned(low: ranges[name]!.0, high: ranges[name]!.1, symmetric: c.symmetric))
        Int8Conversion.convert(model, node: name, layer: node.layer, input: input, granularity: c.granularity)
      }
    }
    return (chosen, convert)
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
  /// Layers kept in fp32.
  public var skip: [String]
  /// When set, the most sensitive layers are kept in fp32 until top-1 agreement with the step's
  /// input model drops at most this much (see `QuantizationSensitivity.skipList`).
  public var maxAgreementDrop: Double?
  /// Training examples the sensitivity and the agreement budget are measured on.
  public var sensitivitySamples: Int
  public var source: SettingSource

  public init(
    granularity: QuantizationGranularity = .perChannel, activations: ActivationQuantization = .staticRange,
    calibration: CalibrationMethod = .minMax, percentile: Double = 99.99, calibrationSamples: Int = 512,
    symmetric: Bool = false, layers: [String]? = nil, skip: [String] = [], maxAgreementDrop: Double? = nil,
    sensitivitySamples: Int = 256, source: SettingSource = .code("quantize")
  ) {
    self.granularity = granularity
    self.activations = activations
    self.calibration = calibration
    self.percentile = percentile
    self.calibrationSamples = calibrationSamples
    self.symmetric = symmetric
    self.layers = layers
    self.skip = skip
    self.maxAgreementDrop = maxAgreementDrop
    self.sensitivitySamples = sensitivitySamples
    self.source = source
  }

  public init(_ p: StepParameters) throws {
    self.init(
      granularity: QuantizationGranularity(rawValue: p.string("granularity"))!,
      activations: ActivationQuantization(rawValue: p.string("activations"))!,
      calibration: CalibrationMethod(rawValue: p.string("calibration"))!, percentile: p.double("percentile"),
      calibrationSamples: p.int("calibration_samples"), symmetric: p.bool("symmetric"),
      layers: p.isSet("layers") ? p.strings("layers") : nil, skip: p.isSet("skip") ? p.strings("skip") : [],
      maxAgreementDrop: p.optionalDouble("max_agreement_drop"), sensitivitySamples: p.int("sensitivity_samples"),
      source: p.source)
  }
}
