import LatheCompress
import LatheTensor

extension WeightOnlyLinear: ONNXExportable {
  /// Blocked DequantizeLinear arrives in opset 21.
  var minimumONNXOpset: Int { 21 }

  func writeONNX(_ export: LayerExport) throws(ONNXError) { try export.weightOnly(self) }
}

extension LayerExport {
  /// A weight-only layer as opset 21's blocked DequantizeLinear feeding MatMul: the levels
  /// transposed to [in, out] (INT4 packed two per byte, or INT8), one scale per block of
  /// `groupSize` inputs along axis 0, no zero point (symmetric), then Add of the fp32 bias.
  /// ONNX Runtime fuses the DequantizeLinear and MatMul into MatMulNBits. Levels of 2 or 3
  /// bits travel as INT4, of 5 to 7 as INT8 (they fit; ONNX has no narrower integer types).
  /// AWQ's input scale becomes a Div of the input before the MatMul.
  fileprivate func weightOnly(_ l: WeightOnlyLinear) throws(ONNXError) {
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
      w.bits <= 4
      ? TensorEncoder.proto("\(name).weight_quantized", shape: shape, int4: transposed)
      : TensorEncoder.proto("\(name).weight_quantized", shape: shape, int8: transposed.map { Int8($0) })
    let scale = builder.floats("\(name).weight_scale", Tensor(shape: [groups, rows], scalars: scales))
    // Named apart so the MatMul keeps the layer's name (imports name the layer after it).
    let weight = builder.node(
      "DequantizeLinear", [builder.initializer(levels), scale], name: "\(name)_weight",
      [Attr.int("axis", 0), Attr.int("block_size", w.groupSize)])
    var x =
      l.inputScale.map { emit("Div", [inputs[0], builder.floats("\(name).input_scale", $0)], final: false) }
      ?? inputs[0]
    if !l.computesInFloat { x = rowQuantized(x) }
    matMulAdd(x, weight, l.bias.map { builder.floats("\(name).bias", $0) }, final: true)
  }

  /// The integer kernel's input as it sees it: each row rounded to s8 with one scale,
  /// max|x| / 127, and scaled back (lk_wq_quantize_rows: x · (1/scale), rounded half to even,
  /// clamped to ±127). Without it the exported model computes with unrounded inputs and scores
  /// differently from the layer (a language model's next-byte argmax flips on a few positions
  /// in a thousand).
  private func rowQuantized(_ x: String) -> String {
    let b = builder
    // Nodes named apart, so the MatMul keeps the layer's name (imports name the layer after it).
    let part = "\(name)_input_s8"
    func node(_ op: String, _ ins: [String], _ attributes: [Onnx_AttributeProto] = []) -> String {
      b.node(op, ins, output: nil, name: part, attributes)
    }
    let largest = node(
      "ReduceMax", [node("Abs", [x]), b.int64s("\(name).row_axis", [-1])], [Attr.int("keepdims", 1)])
    let step = node("Div", [largest, b.floats("\(name).s8_max", Tensor(127))])
    // An all-zero row has scale 1 in the kernel; any positive scale gives its zeros back.
    let zeroRow = node("Equal", [step, b.floats("\(name).zero", Tensor(0))])
    let scale = node("Where", [zeroRow, b.floats("\(name).one", Tensor(1)), step])
    let levels = node("Round", [node("Mul", [x, node("Reciprocal", [scale])])])
    let clamped = node(
      "Clip", [levels, b.floats("\(name).s8_low", Tensor(-127)), b.floats("\(name).s8_high", Tensor(127))])
    return node("Mul", [clamped, scale])
  }
}
