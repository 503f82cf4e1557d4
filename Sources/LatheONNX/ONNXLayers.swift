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
    switch spec.op {
    case "onnx.Constant": return ONNXConstantLayer(.zeros(try spec.ints("shape", default: [])))
    case "onnx.PRelu": return ONNXPRelu(slope: .zeros(try spec.ints("shape", default: [])))
    case "onnx.ConvTranspose":
      let (inputs, outputs, groups) = (try spec.int("in"), try spec.int("out"), try spec.int("groups"))
      let kernel = try spec.ints("kernel")
      guard inputs > 0, outputs > 0, groups > 0, outputs % groups == 0, kernel.count == 2 else {
        throw .badAttribute(op: spec.op, key: "in/out/groups/kernel", expected: "positive sizes, groups dividing out")
      }
      return ONNXConvTranspose2d(
        weight: Parameter(.zeros([inputs, outputs / groups] + kernel)),
        bias: try spec.bool("bias", default: true) ? Parameter(.zeros([outputs])) : nil,
        stride: try spec.ints("stride", default: [1, 1]), padding: try spec.ints("padding", default: [0, 0, 0, 0]),
        dilation: try spec.ints("dilation", default: [1, 1]),
        outputPadding: try spec.ints("output_padding", default: [0, 0]),
        groups: groups)
    case "onnx.QuantizeLinear", "onnx.DequantizeLinear":
      let channels = try spec.int("channels")
      let shape = try spec.bool("per_channel", default: false) ? [channels] : []
      let (low, high) = (try spec.int("qmin"), try spec.int("qmax"))
      guard low < high else { throw .badAttribute(op: spec.op, key: "qmin", expected: "less than qmax") }
      return ONNXQuantization(
        spec.op == "onnx.QuantizeLinear" ? .quantize : .dequantize, scale: .zeros(shape), zeroPoint: .zeros(shape),
        axis: try spec.int("axis"), range: low...high)
    default: return nil
    }
  }
}
