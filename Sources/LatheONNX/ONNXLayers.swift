import LatheCompress
import LatheTensor

/// Rebuilds the layers LatheONNX defines ("onnx.*" ops) from a model file's specs, with
/// zero-filled parameters the file's tensors then fill.
public struct ONNXLayers: LayerBuilding {
  /// Every builder a model that may hold imported or compressed layers needs.
  public static let builders: [LayerBuilding] = [ONNXLayers()] + CompressedLayers.builders

  public init() {}

  public func makeLayer(_ spec: LayerSpec) throws(ModelError) -> Layer? {
    if let kind = try ONNXOpSpec.kind(spec) { return ONNXOp(kind) }
    if let math = try ONNXMathOp(spec: spec) { return math }
    if let logic = try ONNXLogicOp(spec: spec) { return logic }
    if let layer = try ONNXScanLayers.make(spec) { return layer }
    if let layer = try ONNXExtraLayers.make(spec) { return layer }
    if let layer = try ONNXIndexOp(spec: spec) { return layer }
    if let layer = try ONNXOneHot(spec: spec) { return layer }
    if let layer = try ONNXTopK(spec: spec) { return layer }
    if let layer = try ONNXShapeDependentOp(spec: spec) { return layer }
    if let layer = try ONNXGatherTable(spec: spec) { return layer }
    if let layer = try ONNXRecurrent.make(spec) { return layer }
    if let layer = try ONNXDynamicQuantization(spec: spec) { return layer }
    if let layer = try ONNXUnique(spec: spec) { return layer }
    if let layer = try ONNXNonMaxSuppression(spec: spec) { return layer }
    if let layer = try ONNXCol2Im(spec: spec) { return layer }
    if let layer = try ONNXNormalization.make(spec) { return layer }
    if let layer = try ONNXRearrange.make(spec) { return layer }
    if let attention = try ONNXAttention(spec: spec) { return attention }
    if let layer = try ONNXResize.make(spec) { return layer }
    if let loss = try ONNXNegativeLogLikelihoodLoss(spec: spec) { return loss }
    switch spec.op {
    case "onnx.If": return try ONNXSubgraphFile.makeIf(spec)
    case "onnx.Loop", "onnx.Scan": return try ONNXSubgraphFile.makeLoop(spec)
    case "onnx.NonZero": return ONNXNonZero()
    case "onnx.Constant": return ONNXConstantLayer(.zeros(try spec.ints("shape", default: [])))
    case "onnx.PRelu": return ONNXPRelu(slope: .zeros(try spec.ints("shape", default: [])))
    case "onnx.ConvTranspose":
      let (inputs, outputs, groups) = (try spec.int("in"), try spec.int("out"), try spec.int("groups"))
      let kernel = try spec.ints("kernel")
      guard inputs > 0, outputs > 0, groups > 0, outputs % groups == 0, !kernel.isEmpty else {
        throw .badAttribute(op: spec.op, key: "in/out/groups/kernel", expected: "positive sizes, groups dividing out")
      }
      let ones = Array(repeating: 1, count: kernel.count)
      return ONNXConvTranspose(
        weight: Parameter(.zeros([inputs, outputs / groups] + kernel)),
        bias: try spec.bool("bias", default: true) ? Parameter(.zeros([outputs])) : nil,
        stride: try spec.ints("stride", default: ones),
        padding: try spec.ints("padding", default: ones.map { _ in 0 } + ones.map { _ in 0 }),
        dilation: try spec.ints("dilation", default: ones),
        outputPadding: try spec.ints("output_padding", default: ones.map { _ in 0 }),
        groups: groups)
    case "onnx.Conv":
      let (inputs, outputs, groups) = (try spec.int("in"), try spec.int("out"), try spec.int("groups"))
      let window = try Self.window(spec)
      guard inputs > 0, outputs > 0, groups > 0, inputs % groups == 0, outputs % groups == 0 else {
        throw .badAttribute(op: spec.op, key: "in/out/groups", expected: "positive sizes that groups divide")
      }
      return ONNXConv(
        weight: Parameter(.zeros([outputs, inputs / groups] + window.kernel)),
        bias: try spec.bool("bias", default: true) ? Parameter(.zeros([outputs])) : nil, window: window,
        groups: groups)
    case "onnx.BatchNormTraining":
      let channels = try spec.int("channels")
      guard channels > 0, let output = ONNXBatchNormTraining.Output(rawValue: try spec.string("output", default: ""))
      else {
        throw .badAttribute(op: spec.op, key: "channels/output", expected: "channels > 0; normalized, mean or variance")
      }
      let zeros = Tensor<Float>.zeros([channels])
      return ONNXBatchNormTraining(
        output, scale: zeros, bias: zeros, mean: zeros, variance: zeros,
        epsilon: try spec.float("epsilon", default: 1e-5), momentum: try spec.float("momentum", default: 0.9))
    case "onnx.Pool":
      guard let kind = ONNXPool.Kind(rawValue: try spec.string("kind", default: "max")) else {
        throw .badAttribute(op: spec.op, key: "kind", expected: "max, average or indices")
      }
      return ONNXPool(
        kind, window: try Self.window(spec), countIncludePad: try spec.bool("count_include_pad", default: false),
        storageOrder: try spec.int("storage_order"))
    case "onnx.QuantizeLinear", "onnx.DequantizeLinear":
      let channels = try spec.int("channels")
      let blockSize = (try? spec.int("block_size")) ?? 0
      let shape =
        blockSize > 0
        ? try spec.ints("scale_shape") : (try spec.bool("per_channel", default: false) ? [channels] : [])
      let (low, high) = (try spec.int("qmin"), try spec.int("qmax"))
      guard low < high else { throw .badAttribute(op: spec.op, key: "qmin", expected: "less than qmax") }
      return ONNXQuantization(
        spec.op == "onnx.QuantizeLinear" ? .quantize : .dequantize, scale: .zeros(shape), zeroPoint: .zeros(shape),
        axis: try spec.int("axis"), range: low...high, blockSize: blockSize)
    default: return nil
    }
  }

  /// The window of an "onnx.Conv" or "onnx.Pool" spec, checked for agreeing lengths.
  static func window(_ spec: LayerSpec) throws(ModelError) -> WindowND {
    let kernel = try spec.ints("kernel")
    let window = WindowND(
      kernel: kernel, stride: try spec.ints("stride"), pads: try spec.ints("pads"),
      dilation: try spec.ints("dilation"), ceilMode: try spec.bool("ceil_mode", default: false))
    guard !kernel.isEmpty, kernel.allSatisfy({ $0 > 0 }), window.stride.count == kernel.count,
      window.dilation.count == kernel.count, window.pads.count == 2 * kernel.count
    else {
      throw .badAttribute(op: spec.op, key: "kernel/stride/pads/dilation", expected: "one value per spatial axis")
    }
    return window
  }
}
