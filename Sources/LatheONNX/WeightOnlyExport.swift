import Foundation
import LatheCompress
import LatheTensor

extension LayerExport {
  /// The first opset that can express a layer: 21 for weight-only layers and blocked or int4
  /// Quantize/DequantizeLinear, 14 for training-mode BatchNormalization, else 13.
  static func minimumOpset(_ layer: Layer) -> Int {
    switch layer {
    case is WeightOnlyLinear: return 21
    case let l as ONNXQuantization where l.blockSize > 0 || l.range == -8...7: return 21
    case is ONNXBatchNormTraining: return 14
    default: return ONNXExporter.opsetVersion
    }
  }

  /// A weight-only layer as opset 21's blocked DequantizeLinear feeding MatMul: the levels
  /// transposed to [in, out] (INT4 packed two per byte, or INT8), one scale per block of
  /// `groupSize` inputs along axis 0, no zero point (symmetric), then Add of the fp32 bias.
  /// ONNX Runtime fuses the DequantizeLinear and MatMul into MatMulNBits.
  func weightOnly(_ l: WeightOnlyLinear) throws(ONNXError) {
    guard builder.opset >= 21 else { throw fail("blocked DequantizeLinear needs opset 21") }
    let w = l.weights
    let (rows, columns, groups) = (w.rows, w.columns, w.groups)
    let values = w.values
    var transposed = [Int](repeating: 0, count: values.count)
    for r in 0..<rows {
      for c in 0..<columns { transposed[c * rows + r] = Int(values[r * columns + c]) }
    }
    var scales = [Float](repeating: 0, count: groups * rows)
    for r in 0..<rows {
      for g in 0..<groups { scales[g * rows + r] = w.scales[r * groups + g] }
    }
    let shape = [columns, rows]
    let levels =
      w.bits == 4
      ? TensorEncoder.proto("\(name).weight_quantized", shape: shape, int4: transposed)
      : TensorEncoder.proto("\(name).weight_quantized", shape: shape, int8: transposed.map { Int8($0) })
    let scale = builder.floats("\(name).weight_scale", Tensor(shape: [groups, rows], scalars: scales))
    // Named apart so the MatMul keeps the layer's name (imports name the layer after it).
    let weight = builder.node(
      "DequantizeLinear", [builder.initializer(levels), scale], name: "\(name)_weight",
      [Attr.int("axis", 0), Attr.int("block_size", w.groupSize)])
    let product = emit("MatMul", [inputs[0], weight], final: l.bias == nil)
    if let bias = l.bias { emit("Add", [product, builder.floats("\(name).bias", bias)]) }
  }
}

extension TensorEncoder {
  /// INT4 levels (−8...7), two per byte in raw_data: element 2i in the low nibble, 2i + 1 in
  /// the high one, over the flattened tensor (an odd count leaves the last high nibble zero).
  static func proto(_ name: String, shape: [Int], int4 values: [Int]) -> Onnx_TensorProto {
    var bytes = [UInt8](repeating: 0, count: (values.count + 1) / 2)
    for (i, v) in values.enumerated() {
      let nibble = UInt8(truncatingIfNeeded: v) & 0x0F
      bytes[i / 2] |= i % 2 == 0 ? nibble : nibble << 4
    }
    var p = Onnx_TensorProto()
    p.name = name
    p.dims = shape.map { Int64($0) }
    p.dataType = Int32(Onnx_TensorProto.DataType.int4.rawValue)
    p.rawData = Data(bytes)
    return p
  }
}
