import Foundation

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
