import Foundation
import LatheIO
import LatheTensor

/// Post-training int8 quantization: weights to s8 (per channel or per tensor), activations to
/// u8 with ranges calibrated on training examples (static) or measured per batch (dynamic).
/// Linear, groups-1 Conv2d and depthwise Conv2d layers become int8 layers running the
/// VNNI/AVX2 kernels; a ReLU that follows one is folded into its output stage.
///
/// Kernel-truthful: int8 is not faster everywhere (a 3-channel first convolution, a
/// GEMV-shaped 1x1 convolution on a 1x1 image, small depthwise planes, and most layers on the
/// portable path). With `speed_check` (the default) every candidate is timed against its float
/// layer at batch 1 on a calibration example, on this CPU and kernel path, and a layer whose
/// int8 form is slower keeps its float layer unless `pin_int8` names it; either way it is
/// reported (`StepFindings.slowerInt8Layers`, the `slower_layers` metric).
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
        "layers", .list, default: nil,
        help: "layers to quantize (default: every Linear, groups-1 Conv2d and depthwise Conv2d)"),
      ParameterDescriptor("skip", .list, default: nil, help: "layers to keep in fp32"),
      ParameterDescriptor(
        "max_agreement_drop", .float(0...1), default: nil,
        help:
          "keep the most int8-sensitive layers in fp32 until top-1 agreement with the step's input drops at most this much"
      ),
      ParameterDescriptor(
        "sensitivity_samples", .int(1...100_000), default: .int(256),
        help: "training examples the sensitivity and the agreement budget are measured on"),
      ParameterDescriptor(
        "speed_check", .bool, default: .bool(true),
        help: "time each layer int8 against float at batch 1 and keep float where int8 is slower"),
      ParameterDescriptor(
        "pin_int8", .list, default: nil, help: "layers kept int8 even where the speed check finds them slower"),
    ])

  public let config: Int8QuantizeConfig
  /// Times one layer's forward pass on batch-1 inputs, in microseconds (tests inject their own).
  public let timer: LayerTimer

  public init(_ config: Int8QuantizeConfig) { self.init(config, timer: LayerTiming.interleaved) }

  public init(_ config: Int8QuantizeConfig, timer: @escaping LayerTimer) {
    self.config = config
    self.timer = timer
  }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let c = config
    let plan = try prepare(model, context: context)
    var chosen = plan.layers
    if let budget = c.maxAgreementDrop {
      let data = context.data.train.slice(0..<min(c.sensitivitySamples, context.data.train.count))
      let skips = try QuantizationSensitivity.skipList(
        for: model, layers: chosen, maxAgreementDrop: budget, convert: plan.convert, data: data, context: context)
      chosen.removeAll { skips.skipped.contains($0) }
      context.findings.int8SkipList = skips
      if let folder = context.outputDirectory, !skips.rows.isEmpty {
        try AtomicFile.write(
          QuantizationSensitivity.csv(skips.rows, skipped: skips.skipped),
          to: folder.appendingPathComponent("\(c.source.stepName)-sensitivity.csv"))
      }
    }
    if c.speedCheck {
      context.report(0.85, "timing \(chosen.count) layers int8 against float")
      let slower = try Self.slowerLayers(
        of: model, chosen: chosen, data: context.data.train, input: plan.input, granularity: c.granularity,
        timer: timer, context: context)
      let keepFloat = Set(slower.map(\.name)).subtracting(c.pinInt8)
      context.findings.slowerInt8Layers = slower.map {
        SlowerInt8Layer(
          name: $0.name, int8Microseconds: $0.int8, floatMicroseconds: $0.float, pinned: c.pinInt8.contains($0.name))
      }
      chosen.removeAll { keepFloat.contains($0) }
    }
    try plan.convert(model, chosen)
    return model
  }

  /// What `prepare` sets up: the layers to quantize, each one's input quantization, and the
  /// conversion of any of them in a model (a copy for sensitivity trials, or the step's model).
  struct Preparation {
    var layers: [String]
    var input: (String) -> InputQuantization
    var convert: QuantizationSensitivity.Convert
  }

  /// Checks the layer settings and calibrates the chosen layers (static activations).
  func prepare(_ model: Model, context: StepContext) throws -> Preparation {
    let c = config
    let dynamic = c.activations == .dynamicRange
    let candidates = Self.int8Layers(of: model)
    var chosen = c.layers ?? candidates
    try c.source.checkChosen(chosen, among: candidates, kind: "quantizable layer")
    try c.source.checkChosen(c.skip, among: candidates, kind: "quantizable layer", key: "skip")
    try c.source.checkChosen(c.pinInt8, among: chosen, kind: "layer being quantized", key: "pin_int8")
    chosen.removeAll { c.skip.contains($0) }
    context.report(0, dynamic ? "quantizing weights" : "calibrating on \(c.calibrationSamples) examples")
    let ranges =
      dynamic
      ? [:]
      : try Calibrator.inputRanges(
        of: model, layers: Set(chosen), data: context.data.train, samples: c.calibrationSamples,
        method: c.calibration, percentile: c.percentile, symmetric: c.symmetric, context: context)
    let input: (String) -> InputQuantization = { name in
      dynamic
        ? .dynamic(symmetric: c.symmetric)
        : .fixed(.unsigned(low: ranges[name]!.0, high: ranges[name]!.1, symmetric: c.symmetric))
    }
    let convert: QuantizationSensitivity.Convert = { model, layers in
      for name in layers {
        guard let node = model.nodes.first(where: { $0.name == name }) else { continue }
        Int8Conversion.convert(model, node: name, layer: node.layer, input: input(name), granularity: c.granularity)
      }
    }
    return Preparation(layers: chosen, input: input, convert: convert)
  }

  /// The layers quantization-aware training handles: every Linear and every groups-1 Conv2d.
  static func quantizableLayers(of model: Model) -> [String] {
    model.nodes.filter { $0.layer is Linear || ($0.layer as? Conv2d)?.groups == 1 }.map(\.name)
  }

  /// The layers post-training int8 handles: those and the depthwise convolutions.
  static func int8Layers(of model: Model) -> [String] {
    model.nodes.filter { node in
      if node.layer is Linear { return true }
      guard let conv = node.layer as? Conv2d else { return false }
      return conv.groups == 1 || Int8Conversion.isDepthwise(conv)
    }.map(\.name)
  }

  /// The chosen layers whose int8 form (with the ReLU it would fold) runs slower than the
  /// float layer on one calibration example, with both times. Inputs are what the float model
  /// feeds each layer, so the kernels see real shapes and values.
  static func slowerLayers(
    of model: Model, chosen: [String], data: Dataset, input: (String) -> InputQuantization,
    granularity: QuantizationGranularity, timer: LayerTimer, context: StepContext
  ) throws -> [(name: String, int8: Double, float: Double)] {
    let inputs = model.firstExampleInputs(of: Set(chosen), in: data)
    var slower: [(name: String, int8: Double, float: Double)] = []
    for name in chosen {
      try context.checkCancellation()
      guard let node = model.nodes.first(where: { $0.name == name }), let x = inputs[name] else { continue }
      let readers = model.readers(of: name)
      let relu = readers.count == 1 && (readers[0].layer as? Function)?.kind == .relu
      guard
        let int8 = Int8Conversion.int8Layer(of: node.layer, input: input(name), granularity: granularity, relu: relu)
      else { continue }
      let (int8Time, floatTime) = timer(int8, node.layer, x)
      if int8Time > floatTime { slower.append((name, int8Time, floatTime)) }
    }
    return slower
  }
}

/// Times two layers on the same batch-1 inputs: (first's microseconds, second's).
public typealias LayerTimer = @Sendable (_ first: Layer, _ second: Layer, _ inputs: [Variable]) -> (Double, Double)

/// How the speed check times layers.
public enum LayerTiming {
  /// Runs of the two layers interleaved (so a noisy machine slows both alike) for about 3 ms
  /// each after two warm-up runs, at least 5 and at most 400 pairs; the medians.
  public static func interleaved(_ first: Layer, _ second: Layer, _ inputs: [Variable]) -> (Double, Double) {
    GradientRecording.disabled {
      var context = ForwardContext.inference
      func once(_ layer: Layer) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        withExtendedLifetime(layer.forward(inputs, context: &context)) {}
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1000
      }
      for _ in 0..<2 {
        _ = once(first)
        _ = once(second)
      }
      var (a, b) = ([Double](), [Double]())
      var spent = 0.0
      while a.count < 400 && (a.count < 5 || spent < 6000) {
        a.append(once(first))
        b.append(once(second))
        spent += a.last! + b.last!
      }
      return (median(a), median(b))
    }
  }

  static func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1
      ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
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
  /// Layers to quantize; nil quantizes every Linear, groups-1 and depthwise Conv2d.
  public var layers: [String]?
  /// Layers kept in fp32.
  public var skip: [String]
  /// When set, the most sensitive layers are kept in fp32 until top-1 agreement with the step's
  /// input model drops at most this much (see `QuantizationSensitivity.skipList`).
  public var maxAgreementDrop: Double?
  /// Training examples the sensitivity and the agreement budget are measured on.
  public var sensitivitySamples: Int
  /// Time each layer int8 against float and keep float where int8 is slower.
  public var speedCheck: Bool
  /// Layers kept int8 even where the speed check finds them slower.
  public var pinInt8: [String]
  public var source: SettingSource

  public init(
    granularity: QuantizationGranularity = .perChannel, activations: ActivationQuantization = .staticRange,
    calibration: CalibrationMethod = .minMax, percentile: Double = 99.99, calibrationSamples: Int = 512,
    symmetric: Bool = false, layers: [String]? = nil, skip: [String] = [], maxAgreementDrop: Double? = nil,
    sensitivitySamples: Int = 256, speedCheck: Bool = true, pinInt8: [String] = [],
    source: SettingSource = .code("quantize")
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
    self.speedCheck = speedCheck
    self.pinInt8 = pinInt8
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
      speedCheck: p.bool("speed_check"), pinInt8: p.isSet("pin_int8") ? p.strings("pin_int8") : [],
      source: p.source)
  }
}
