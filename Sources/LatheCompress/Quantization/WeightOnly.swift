import Foundation
import LatheTensor

/// Weight-only quantization with group-wise scales (ggml's Q8_0 / Q4_0): Linear weights to int8
/// or int4, one fp32 scale per `group_size` consecutive inputs of an output row; activations
/// stay fp32 in the graph and are quantized per row inside the kernel. Needs no calibration
/// data. `bits` may differ per layer (mixed precision): 4, 8, or 32 to keep a layer fp32.
public struct WeightOnly: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "weight-only",
    summary: "int8/int4 weights with group-wise scales (Q8_0/Q4_0); per-layer bit widths.",
    parameters: [
      ParameterDescriptor(
        "bits", .perLayerInt(4...32), default: .int(4),
        help: "4 or 8, or 32 to keep fp32; one value or a map such as {fc1: 4, fc3: 8}"),
      ParameterDescriptor(
        "group_size", .int(32...65536), default: .int(32),
        help: "consecutive inputs sharing one scale (a multiple of 32; a row's last group may be shorter)"),
      ParameterDescriptor(
        "layers", .list, default: nil, help: "layers to quantize (default: every Linear)"),
    ], needsTrainData: false)

  public let config: WeightOnlyConfig

  public init(_ config: WeightOnlyConfig) { self.config = config }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let c = config
    let candidates = model.nodes.filter { $0.layer is Linear }.map(\.name)
    let chosen = c.layers ?? candidates
    try c.source.checkChosen(chosen, among: candidates, kind: "Linear layer")
    let bits = try c.source.resolveLayers("bits", c.bits, allowed: chosen)
    for (index, name) in chosen.enumerated() {
      try context.checkCancellation()
      // Layers a bits map leaves out take the default width.
      let width = bits?.value(for: name) ?? 4
      guard width != 32, let linear = model.nodes.first(where: { $0.name == name })?.layer as? Linear else { continue }
      context.report(Double(index) / Double(chosen.count), "\(name): int\(width) g\(c.groupSize)")
      model.replaceLayer(
        named: name,
        with: WeightOnlyLinear(
          weights: GroupQuantizedWeights(quantizing: linear.weight.value, bits: width, groupSize: c.groupSize),
          bias: linear.bias?.value))
    }
    return model
  }
}

/// The bit widths and scale groups of weight-only quantization.
public struct WeightOnlyConfig: TechniqueConfig {
  /// 4 or 8 bits, or 32 to keep a layer fp32; for every layer or by layer (others get 4).
  public var bits: PerLayer<Int>?
  /// Consecutive inputs sharing one scale, a multiple of 32.
  public var groupSize: Int
  /// Layers to quantize; nil quantizes every Linear.
  public var layers: [String]?
  public var source: SettingSource

  /// Throws for a group size that is not a multiple of 32 or a width other than 4, 8 or 32.
  public init(
    bits: PerLayer<Int>? = .all(4), groupSize: Int = 32, layers: [String]? = nil,
    source: SettingSource = .code("weight-only")
  ) throws {
    guard groupSize % 32 == 0 else { throw source.error("group_size", "\(groupSize) is not a multiple of 32") }
    if let bits {
      let values: [Int]
      switch bits {
      case .all(let b): values = [b]
      case .each(let map): values = Array(map.values)
      }
      for b in values where ![4, 8, 32].contains(b) {
        throw source.error("bits", "\(b) bits: expected 4, 8 or 32 (fp32)")
      }
    }
    self.bits = bits
    self.groupSize = groupSize
    self.layers = layers
    self.source = source
  }

  public init(_ p: StepParameters) throws {
    try self.init(
      bits: p.perLayerInt("bits"), groupSize: p.int("group_size"),
      layers: p.isSet("layers") ? p.strings("layers") : nil,
      source: p.source)
  }
}
