import LatheTensor

// The ONNX forms of the layers in ONNXParameterLayers.swift.

/// An initializer under the node's output name: no operator at all.
extension ONNXConstantLayer: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) { export.constant(self) }
}

extension ONNXPRelu: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) { export.pRelu(self) }
}

extension ONNXQuantization: ONNXExportable {
  /// Blocked and int4 Quantize/DequantizeLinear arrive in opset 21.
  var minimumONNXOpset: Int { blockSize > 0 || range == -8...7 ? 21 : ONNXExporter.opsetVersion }

  func writeONNX(_ export: LayerExport) throws(ONNXError) { try export.quantization(self) }
}

extension LayerExport {
  fileprivate func constant(_ l: ONNXConstantLayer) {
    builder.initializers.append(TensorEncoder.proto(output, l.value.value))
  }

  fileprivate func pRelu(_ l: ONNXPRelu) {
    emit("PRelu", [inputs[0], builder.floats("\(name).slope", l.slope.value)])
  }

  fileprivate func quantization(_ l: ONNXQuantization) throws(ONNXError) {
    let perChannel = l.scale.shape.count == 1
    let scale = builder.floats("\(name).scale", l.scale.value)
    let zeros = l.zeroPoint.value.scalars.map { Int($0.rounded()) }
    let zeroName: String
    switch l.range {
    case 0...255:
      zeroName = builder.initializer(
        TensorEncoder.proto("\(name).zero_point", shape: l.scale.shape, uint8: zeros.map { UInt8($0) }))
    case -128...127:
      zeroName = builder.initializer(
        TensorEncoder.proto("\(name).zero_point", shape: l.scale.shape, int8: zeros.map { Int8($0) }))
    case -8...7 where builder.opset >= 21:
      zeroName = builder.initializer(TensorEncoder.proto("\(name).zero_point", shape: l.scale.shape, int4: zeros))
    default: throw fail("only int8 and uint8 (and from opset 21 int4) quantization can be written")
    }
    var attributes = perChannel || l.blockSize > 0 ? [Attr.int("axis", l.axis)] : []
    if l.blockSize > 0 { attributes.append(Attr.int("block_size", l.blockSize)) }
    emit(l.direction == .quantize ? "QuantizeLinear" : "DequantizeLinear", [inputs[0], scale, zeroName], attributes)
  }
}
