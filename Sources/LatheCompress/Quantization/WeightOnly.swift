import Foundation
import LatheTensor

/// Weight-only quantization with group-wise scales (ggml's Q8_0 / Q4_0): Linear weights to 2 to
/// 8 bits, one fp32 scale per `group_size` consecutive inputs of an output row; activations
/// stay fp32 in the graph and are quantized per row inside the kernel. `bits` may differ per
/// layer (mixed precision), 32 keeping a layer fp32.
///
/// `method` chooses how the levels are found: `rtn` rounds each weight to nearest and needs no
/// data; `gptq` (`GPTQ`) and `awq` (`AWQ`) calibrate on the train split's inputs (no labels),
/// layer by layer in graph order (`SequentialCalibration`). GPTQ stores the same form as RTN;
/// AWQ adds one fp32 input scale per input channel.
///
/// `format` other than `int` stores FP8 (E4M3, E5M2) or FP4 (MXFP4, NVFP4) codes instead,
/// decoded to fp32 at load (`FloatCodedLinear`: emulated compute, smaller files).
public struct WeightOnly: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "weight-only",
    summary: "2-8-bit weights with group-wise scales (Q8_0/Q4_0), by rounding, GPTQ or AWQ; per-layer bit widths.",
    parameters: [
      ParameterDescriptor(
        "format", .choice(["int"] + FloatWeightFormat.allCases.map(\.rawValue)), default: .string("int"),
        help:
          "int (bits, group_size), or fp8-e4m3, fp8-e5m2, mxfp4, nvfp4: stored coded, decoded to fp32 at load (emulated)"
      ),
      ParameterDescriptor(
        "method", .choice(Method.allCases.map(\.rawValue)), default: .string("rtn"),
        help: "rtn rounds to nearest (no data); gptq and awq calibrate on the train split's inputs"),
      ParameterDescriptor(
        "bits", .perLayerInt(2...32), default: .int(4),
        help: "2 to 8, or 32 to keep fp32; one value or a map such as {fc1: 4, fc3: 8}"),
      ParameterDescriptor(
        "group_size", .int(32...65536), default: .int(32),
        help: "consecutive inputs sharing one scale (a multiple of 32; a row's last group may be shorter)"),
      ParameterDescriptor(
        "layers", .list, default: nil, help: "layers to quantize (default: every Linear)"),
      ParameterDescriptor(
        "target_bits", .float(4...32), default: nil,
        help: "mixed precision: choose 3-6, 8 or 32 bits per layer for this mean stored bits per weight (replaces bits)"
      ),
      ParameterDescriptor(
        "sensitivity_samples", .int(1...100_000), default: .int(128),
        help: "training examples each layer's sensitivity is measured on (target_bits)"),
      ParameterDescriptor(
        "speed_check", .bool, default: .bool(true),
        help: "time each layer's integer kernel against fp32 on one example and compute in fp32 where that is faster"),
      ParameterDescriptor(
        "pin_kernel", .list, default: nil,
        help: "layers kept on the integer kernel even where the speed check finds fp32 faster"),
      ParameterDescriptor(
        "act_order", .bool, default: .bool(false),
        help: "gptq: quantize the inputs with the largest activations first (static group scales)"),
      ParameterDescriptor(
        "damp", .float(0.000_001...1), default: .float(0.01),
        help: "gptq: fraction of the input Hessian's mean diagonal added to its diagonal"),
      ParameterDescriptor(
        "clip", .bool, default: .bool(true), help: "awq: also search each group's clipping bound"),
      ParameterDescriptor(
        "calibration_samples", .int(1...100_000), default: .int(128),
        help: "gptq, awq: training examples whose inputs calibrate each layer"),
    ], needsTrainData: false)

  /// How the levels are chosen.
  public enum Method: String, Sendable, CaseIterable {
    /// Round to nearest; no data.
    case rtn
    /// GPTQ: error compensation through the inverse input Hessian.
    case gptq
    /// AWQ: activation-aware per-input scales.
    case awq
  }

  public let config: WeightOnlyConfig
  /// Times the integer kernel against fp32 on one layer's inputs (tests inject their own).
  public let timer: LayerTimer

  public init(_ config: WeightOnlyConfig) { self.init(config, timer: LayerTiming.interleaved) }

  public init(_ config: WeightOnlyConfig, timer: @escaping LayerTimer) {
    self.config = config
    self.timer = timer
  }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let c = config
    let candidates = model.nodes.filter { $0.layer is Linear }.map(\.name)
    let chosen = c.layers ?? candidates
    try c.source.checkChosen(chosen, among: candidates, kind: "Linear layer")
    if let format = c.format {
      for (index, name) in chosen.enumerated() {
        try context.checkCancellation()
        context.report(Double(index) / Double(chosen.count), "\(name): \(format.rawValue)")
        guard let linear = model.nodes.first(where: { $0.name == name })?.layer as? Linear else { continue }
        model.replaceLayer(
          named: name,
          with: FloatCodedLinear(
            weights: FloatCodedWeights(quantizing: linear.weight.value, format: format), bias: linear.bias?.value))
      }
      return model
    }
    var bits = try c.source.resolveLayers("bits", c.bits, allowed: chosen)
    if let target = c.targetBits {
      bits = .each(try allocate(model, layers: chosen, target: target, context: context))
    }
    try c.source.checkChosen(c.pinKernel, among: chosen, kind: "layer being quantized", key: "pin_kernel")
    // The inputs each layer really gets, for the speed check: one example through the float model.
    let timingInputs = c.speedCheck ? Self.layerInputs(of: model, layers: Set(chosen), context: context) : [:]
    let originals = Dictionary(
      chosen.compactMap { name in model.nodes.first { $0.name == name }.map { (name, $0.layer) } }
    ) { first, _ in first }
    // Layers a bits map leaves out take the default width.
    let width = { (name: String) in bits?.value(for: name) ?? 4 }
    switch c.method {
    case .rtn:
      for (index, name) in chosen.enumerated() {
        try context.checkCancellation()
        context.report(Double(index) / Double(chosen.count), "\(name): int\(width(name)) g\(c.groupSize)")
        Self.quantize(model, layer: name, bits: width(name), groupSize: c.groupSize)
      }
    case .gptq, .awq:
      try calibrate(model, layers: chosen.filter { width($0) != 32 }, width: width, context: context)
    }
    var slower: [SlowerInt8Layer] = []
    for name in chosen {
      guard let float = originals[name], let inputs = timingInputs[name],
        let quantized = model.nodes.first(where: { $0.name == name })?.layer as? WeightOnlyLinear
      else { continue }
      let (integer, fp32) = timer(quantized, float, inputs)
      guard integer > fp32 else { continue }
      let pinned = c.pinKernel.contains(name)
      slower.append(SlowerInt8Layer(name: name, int8Microseconds: integer, floatMicroseconds: fp32, pinned: pinned))
      if !pinned { model.replaceLayer(named: name, with: quantized.computing(inFloat: true)) }
    }
    if c.speedCheck { context.findings.slowerInt8Layers = slower }
    return model
  }

  /// Each layer's inputs for one example of the train split, else of the test split (timing
  /// needs no labels).
  static func layerInputs(of model: Model, layers: Set<String>, context: StepContext) -> [String: [Variable]] {
    model.firstExampleInputs(
      of: layers, in: context.data.train.count > 0 ? context.data.train : context.data.test)
  }

  /// GPTQ or AWQ over `layers`, one after another in graph order, each calibrated on the inputs
  /// the model quantized so far gives it; each layer's relative output error on its
  /// calibration inputs goes to the findings (and AWQ's chosen α).
  func calibrate(_ model: Model, layers: [String], width: (String) -> Int, context: StepContext) throws {
    let c = config
    let train = try SequentialCalibration.trainData(context, source: c.source, key: "method", method: c.method.rawValue)
    var errors: [String: Double] = [:]
    var alphas: [String: Double] = [:]
    try SequentialCalibration.run(
      model, layers: layers, data: train, samples: c.calibrationSamples,
      keptRows: c.method == .awq ? AWQ.keptRows : 0, context: context, label: c.method.rawValue
    ) { name, linear, statistics in
      let bits = width(name)
      let layer: WeightOnlyLinear
      switch c.method {
      case .gptq:
        let settings = GPTQ.Settings(bits: bits, groupSize: c.groupSize, actOrder: c.actOrder, damp: c.damp)
        let weights = try GPTQ.quantize(
          linear.weight.value, hessian: statistics.hessian, settings: settings, mask: linear.weight.mask)
        layer = WeightOnlyLinear(weights: weights, bias: linear.bias?.value)
      default:
        let result = AWQ.quantize(
          linear.weight.value, statistics: statistics, bits: bits, groupSize: c.groupSize, clip: c.clip)
        alphas[name] = result.alpha
        layer = WeightOnlyLinear(
          weights: result.weights, bias: linear.bias?.value,
          inputScale: Tensor(shape: [result.inputScale.count], scalars: result.inputScale))
      }
      errors[name] = statistics.relativeOutputError(
        linear.weight.value.contiguous().scalars, layer.floatWeight().scalars, rows: linear.outputs)
      model.replaceLayer(named: name, with: layer)
    }
    context.findings.layerOutputErrors = errors
    if c.method == .awq { context.findings.awqAlphas = alphas }
  }

  /// Replaces Linear `name` by its weight-only form (`bits` 32 leaves it fp32).
  static func quantize(_ model: Model, layer name: String, bits: Int, groupSize: Int) {
    guard bits != 32, let linear = model.nodes.first(where: { $0.name == name })?.layer as? Linear else { return }
    model.replaceLayer(
      named: name,
      with: WeightOnlyLinear(
        weights: GroupQuantizedWeights(quantizing: linear.weight.value, bits: bits, groupSize: groupSize),
        bias: linear.bias?.value))
  }

  /// Each layer's width for a mean of `target` stored bits per weight (`BitAllocation`), from
  /// its sensitivity at 4 and 8 bits measured on training examples; recorded in the findings.
  func allocate(_ model: Model, layers: [String], target: Double, context: StepContext) throws -> [String: Int] {
    let c = config
    let train = context.data.train
    guard train.count > 0 else {
      throw StepFailure(
        "\(c.source.stepName): target_bits measures each layer's sensitivity on the train split, "
          + "but \(train.name) has none")
    }
    let data = train.slice(0..<min(c.sensitivitySamples, train.count))
    var costs: [String: [Int: Double]] = [:]
    // The fp32 model's outputs, once for both widths.
    let reference = try QuantizationSensitivity.Reference(model, on: data)
    // Every width the stored form holds from 3 bits up (2 bits costs too much on any layer
    // measured so far); 32 keeps a layer fp32 at no cost.
    let widths = BitAllocation.widths
    for (index, width) in widths.enumerated() {
      let rows = try QuantizationSensitivity.rows(
        of: model, layers: layers,
        convert: { trial, names in
          for name in names { Self.quantize(trial, layer: name, bits: width, groupSize: c.groupSize) }
        },
        reference: reference, context: context,
        progress: (0.9 * Double(index) / Double(widths.count))...(0.9 * Double(index + 1) / Double(widths.count)))
      for row in rows { costs[row.layer, default: [32: 0]][width] = row.meanKL }
    }
    let options = layers.map { name in
      BitAllocation.Layer(
        name: name, parameters: (model.nodes.first { $0.name == name }?.layer as? Linear)?.weight.value.count ?? 0,
        cost: costs[name] ?? [32: 0])
    }
    let chosen = BitAllocation.allocate(options, budget: target, groupSize: c.groupSize)
    let total = Double(options.map(\.parameters).reduce(0, +))
    let mean =
      options.reduce(0.0) {
        $0 + Double($1.parameters) * BitAllocation.storedBits(chosen[$1.name]!, groupSize: c.groupSize)
      } / max(total, 1)
    context.findings.bitAllocation = BitAllocationFindings(widths: chosen, meanBits: mean)
    return chosen
  }
}

/// The bit widths and scale groups of weight-only quantization.
public struct WeightOnlyConfig: TechniqueConfig {
  public var method: WeightOnly.Method
  /// A floating-point format for every chosen layer, or nil for the integer formats (`bits`).
  public var format: FloatWeightFormat?
  /// 2 to 8 bits, or 32 to keep a layer fp32; for every layer or by layer (others get 4).
  public var bits: PerLayer<Int>?
  /// Consecutive inputs sharing one scale, a multiple of 32.
  public var groupSize: Int
  /// Layers to quantize; nil quantizes every Linear.
  public var layers: [String]?
  /// Mixed precision: the mean stored bits per weight to allocate 4, 8 or 32 bits for
  /// (replaces `bits`).
  public var targetBits: Double?
  /// Training examples each layer's sensitivity is measured on, for `targetBits`.
  public var sensitivitySamples: Int
  /// Time each layer's integer kernel against fp32 and compute in fp32 where that is faster.
  public var speedCheck: Bool
  /// Layers kept on the integer kernel whatever the speed check finds.
  public var pinKernel: [String]
  /// GPTQ: quantize the columns of largest input Hessian diagonal first (static group scales).
  public var actOrder: Bool
  /// GPTQ: fraction of the input Hessian's mean diagonal added to its diagonal.
  public var damp: Double
  /// AWQ: search each group's clipping bound too.
  public var clip: Bool
  /// GPTQ, AWQ: training examples whose inputs calibrate each layer.
  public var calibrationSamples: Int
  public var source: SettingSource

  /// Throws for a group size that is not a multiple of 32, a width outside 2...8 other than
  /// 32, or a GPTQ or AWQ setting given to another method.
  public init(
    method: WeightOnly.Method = .rtn, bits: PerLayer<Int>? = .all(4), groupSize: Int = 32, layers: [String]? = nil,
    targetBits: Double? = nil, sensitivitySamples: Int = 128, speedCheck: Bool = true, pinKernel: [String] = [],
    actOrder: Bool = false, damp: Double = 0.01, clip: Bool = true, calibrationSamples: Int = 128,
    format: FloatWeightFormat? = nil, source: SettingSource = .code("weight-only")
  ) throws {
    if format != nil, targetBits != nil {
      throw source.error(
        "target_bits", "mixed precision allocates int widths; it does not apply to format \(format!.rawValue)")
    }
    if let format, method != .rtn {
      throw source.error(
        "method", "\(method.rawValue) chooses integer levels; it does not apply to format \(format.rawValue)")
    }
    self.format = format
    guard groupSize % 32 == 0 else { throw source.error("group_size", "\(groupSize) is not a multiple of 32") }
    if let bits {
      let values: [Int]
      switch bits {
      case .all(let b): values = [b]
      case .each(let map): values = Array(map.values)
      }
      for b in values where !GroupQuantizedWeights.storableBits.contains(b) && b != 32 {
        throw source.error("bits", "\(b) bits: expected 2 to 8, or 32 (fp32)")
      }
    }
    if actOrder && method != .gptq { throw source.error("act_order", "act_order applies to method: gptq") }
    guard damp > 0 && damp <= 1 else { throw source.error("damp", "\(damp) is outside (0, 1]") }
    self.method = method
    self.actOrder = actOrder
    self.damp = damp
    self.clip = clip
    self.calibrationSamples = calibrationSamples
    self.bits = bits
    self.groupSize = groupSize
    self.layers = layers
    self.targetBits = targetBits
    self.sensitivitySamples = sensitivitySamples
    self.speedCheck = speedCheck
    self.pinKernel = pinKernel
    self.source = source
  }

  public init(_ p: StepParameters) throws {
    let method = WeightOnly.Method(rawValue: p.string("method")) ?? .rtn
    try self.init(
      method: method, bits: p.perLayerInt("bits"), groupSize: p.int("group_size"),
      layers: p.isSet("layers") ? p.strings("layers") : nil, targetBits: p.optionalDouble("target_bits"),
      sensitivitySamples: p.int("sensitivity_samples"), speedCheck: p.bool("speed_check"),
      pinKernel: p.isSet("pin_kernel") ? p.strings("pin_kernel") : [], actOrder: p.bool("act_order"),
      damp: p.double("damp"), clip: p.bool("clip"), calibrationSamples: p.int("calibration_samples"),
      format: FloatWeightFormat(rawValue: p.string("format")), source: p.source)
    for key in ["damp", "calibration_samples"] where p.isSet(key) && method == .rtn {
      throw p.error(key, "\(key) applies to method: gptq or awq (rtn reads no data)")
    }
    if p.isSet("clip") && method != .awq { throw p.error("clip", "clip applies to method: awq") }
  }
}
