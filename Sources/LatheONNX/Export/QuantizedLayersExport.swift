import Foundation
import LatheCompress
import LatheTensor

// The ONNX forms of LatheCompress's int8 layers (QuantizedLayers.swift), as QDQ.

extension QuantizedLinear: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) { try export.quantizedLinear(self) }
}

extension QuantizedConv2d: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) { try export.quantizedConv2d(self) }
}

extension LayerExport {
  /// Gemm on a matrix input; over a rank-3 or higher one, MatMul by the levels stored [in, out]
  /// with one scale per column (axis 1, as ONNX Runtime's own quantizer writes MatMul weights).
  fileprivate func quantizedLinear(_ l: QuantizedLinear) throws(ONNXError) {
    let matrix = inputIsMatrix
    try quantized(
      weights: l.weights, shape: [l.weights.rows, l.weights.columns], transposed: !matrix, bias: l.bias,
      input: l.input
    ) {
      (x: String, w: String, b: String?, final: Bool) in
      matrix
        ? emit("Gemm", [x, w] + (b.map { [$0] } ?? []), [Attr.int("transB", 1)], final: final)
        : matMulAdd(x, w, b, final: final)
    }
  }

  fileprivate func quantizedConv2d(_ l: QuantizedConv2d) throws(ONNXError) {
    let shape = [l.weights.rows, l.inChannels] + l.kernelSize
    try quantized(weights: l.weights, shape: shape, bias: l.bias, input: l.input) {
      (x: String, w: String, b: String?, final: Bool) in
      emit(
        "Conv", [x, w] + (b.map { [$0] } ?? []), conv(shape, l.stride, l.padding, l.dilation, l.groups),
        final: final)
    }
  }

  /// An int8 layer as QDQ: the activation quantized and dequantized (static parameters, or
  /// DynamicQuantizeLinear for dynamic ones), the weight levels dequantized per output channel,
  /// the bias as int32 at scale input·weight when the input scale is static, then the fp32 op.
  /// `transposed` writes a [rows, columns] weight as [columns, rows], its scales on axis 1.
  fileprivate func quantized(
    weights: QuantizedWeights, shape: [Int], transposed: Bool = false, bias: Tensor<Float>?,
    input: InputQuantization, op: (String, String, String?, Bool) -> String
  ) throws(ONNXError) {
    let rows = weights.rows
    let scales =
      weights.scales.count == rows ? weights.scales : Array(repeating: weights.scales.first ?? 1, count: rows)
    // The levels are written as uint8 with zero point 128: the same values, but ONNX Runtime then
    // runs its U8U8 kernels, which are exact on every CPU. With int8 weights it picks U8S8, whose
    // AVX2 and plain AVX-512 kernels (`vpmaddubsw`) saturate pairs of u8·s8 products at int16
    // and, on LeNet-5, lost 0.5 points of accuracy against what Lathe computes.
    var levels = weights.values.map { UInt8(Int($0) + 128) }
    var stored = shape
    if transposed {
      let columns = weights.columns
      levels = (0..<levels.count).map { i in levels[(i % rows) * columns + i / rows] }
      stored = [columns, rows]
    }
    let qWeight = builder.initializer(TensorEncoder.proto("\(name).weight_quantized", shape: stored, uint8: levels))
    let wScale = builder.floats("\(name).weight_scale", Tensor(shape: [rows], scalars: scales))
    let wZero = builder.initializer(
      TensorEncoder.proto("\(name).weight_zero_point", shape: [rows], uint8: Array(repeating: 128, count: rows)))
    let weight = emit(
      "DequantizeLinear", [qWeight, wScale, wZero], [Attr.int("axis", transposed ? 1 : 0)], final: false)
    var x = inputs[0]
    var biasName: String?
    switch input {
    case .fixed(let p):
      let scale = builder.floats("\(name).input_scale", Tensor(p.scale))
      let zero = builder.initializer(
        TensorEncoder.proto("\(name).input_zero_point", shape: [], uint8: [UInt8(clamping: p.zeroPoint)]))
      let q = emit("QuantizeLinear", [x, scale, zero], final: false)
      x = emit("DequantizeLinear", [q, scale, zero], final: false)
      if let bias {
        let biasScales = scales.map { $0 * p.scale }
        let q32 = zip(bias.scalars, biasScales).map { b, s -> Int32 in
          s > 0 ? Int32(clamping: Int((b / s).rounded())) : 0
        }
        var proto = Onnx_TensorProto()
        proto.name = "\(name).bias_quantized"
        proto.dims = [Int64(rows)]
        proto.dataType = Int32(Onnx_TensorProto.DataType.int32.rawValue)
        proto.rawData = q32.withUnsafeBufferPointer { Data(buffer: $0) }
        let qBias = builder.initializer(proto)
        let bScale = builder.floats("\(name).bias_scale", Tensor(shape: [rows], scalars: biasScales))
        let bZero = builder.initializer(
          {
            var z = Onnx_TensorProto()
            z.name = "\(name).bias_zero_point"
            z.dims = [Int64(rows)]
            z.dataType = Int32(Onnx_TensorProto.DataType.int32.rawValue)
            z.rawData = Data(count: rows * 4)
            return z
          }())
        biasName = emit("DequantizeLinear", [qBias, bScale, bZero], [Attr.int("axis", 0)], final: false)
      }
    case .dynamic:
      let q = builder.node("DynamicQuantizeLinear", [x], name: name)
      builder.nodes[builder.nodes.count - 1].output = [q, q + "_scale", q + "_zero_point"]
      x = emit("DequantizeLinear", [q, q + "_scale", q + "_zero_point"], final: false)
      biasName = bias.map { builder.floats("\(name).bias", $0) }
    }
    _ = op(x, weight, biasName, true)
  }
}
