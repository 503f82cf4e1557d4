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
    ])

  let parameters: StepParameters

  public init(_ p: StepParameters) throws {
    parameters = p
    let groupSize = p.int("group_size")
    guard groupSize % 32 == 0 else { throw p.error("group_size", "\(groupSize) is not a multiple of 32") }
    if let bits = p.perLayerInt("bits") {
      let values: [Int]
      switch bits {
      case .all(let b): values = [b]
      case .each(let map): values = Array(map.values)
      }
      for b in values where ![4, 8, 32].contains(b) {
        throw p.error("bits", "\(b) bits: expected 4, 8 or 32 (fp32)")
      }
    }
  }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let p = parameters
    let result = model.copy()
    let candidates = result.nodes.filter { $0.layer is Linear }.map(\.name)
    let chosen = p.isSet("layers") ? p.strings("layers") : candidates
    for name in chosen where !candidates.contains(name) {
      throw StepFailure(
        p.error("layers", "no Linear layer \"\(name)\"; layers: \(candidates.joined(separator: ", "))").description)
    }
    let bits = p.perLayerInt("bits")
    try p.checkLayers("bits", bits, in: result, allowed: chosen)
    let groupSize = p.int("group_size")
    for (index, name) in chosen.enumerated() {
      try context.checkCancellation()
      // Layers a bits map leaves out take the default width.
      let width = bits?.value(for: name) ?? 4
      guard width != 32, let linear = result.nodes.first(where: { $0.name == name })?.layer as? Linear else { continue }
      context.report(Double(index) / Double(chosen.count), "\(name): int\(width) g\(groupSize)")
      result.replaceLayer(
        named: name,
        with: WeightOnlyLinear(
          weights: GroupQuantizedWeights(quantizing: linear.weight.value, bits: width, groupSize: groupSize),
          bias: linear.bias?.value))
    }
    return result
  }
}
