import Foundation
import LatheTensor

// The integer operators of already-quantized files (QLinearMatMul, QLinearConv, MatMulInteger,
// ConvInteger) as the layers they are made of: the zero points subtracted, the product or
// convolution of integers as exact floats (below 2^24), and, for the QLinear ones, the result
// requantized: times x_scale·w_scale/y_scale, rounded half to even, plus y's zero point and
// saturated to its type, as ONNX's reference computes it. Constant weights end up as the
// Linear's or Conv's parameters. DynamicQuantizeLinear is its own layer.
extension ONNXConverters {
  /// Every operator `quantized` converts; `supported` lists them too.
  static let quantizedOps: Set<String> = [
    "QLinearMatMul", "QLinearConv", "MatMulInteger", "ConvInteger", "DynamicQuantizeLinear",
  ]

  static func quantized(_ n: NodeConversion) throws(NodeError) {
    switch n.node.opType {
    case "MatMulInteger":
      let a = try shifted(n, 0, zeroPoint: 2, axis: -2)
      let b = try shifted(n, 1, zeroPoint: 3, axis: -1)
      n.define(0, integer(try product(n, a, b, hints: [n.name + "_a", n.name + "_b"]), .int32))
    case "ConvInteger":
      let x = try shifted(n, 0, zeroPoint: 2, axis: 1)
      let w = try weight(n, 1, zeroPoint: 3)
      n.define(0, integer(try conv(n, x, weight: w, bias: nil), .int32))
    case "QLinearMatMul":
      let a = try shifted(n, 0, zeroPoint: 2, axis: -2)
      let b = try shifted(n, 3, zeroPoint: 5, axis: -1)
      let (sa, sb) = (try n.requiredConstant(1, "a_scale"), try n.requiredConstant(4, "b_scale"))
      let scale = try multiplier(
        n, try along(sa, axis: -2, n.shape(a), "a_scale"), try along(sb, axis: -1, n.shape(b), "b_scale"),
        type: sa.elementType)
      let y = try product(n, a, b, hints: [n.name + "_a", n.name + "_b"])
      n.define(0, try requantized(n, y, scale: scale, input: 0))
    case "QLinearConv":
      let x = try shifted(n, 0, zeroPoint: 2, axis: 1)
      let w = try weight(n, 3, zeroPoint: 5)
      let (sx, sw) = (try n.requiredConstant(1, "x_scale"), try n.requiredConstant(4, "w_scale"))
      // One scale per output channel lies along axis 1 of the output.
      var output = Array(repeating: 1, count: n.shape(x).count)
      if output.count > 1 { output[1] = w.shape.first ?? 0 }
      let scale = try multiplier(
        n, try along(sx, axis: 0, [1], "x_scale"), try along(sw, axis: 1, output, "w_scale"), type: sx.elementType)
      let y = try conv(n, x, weight: w, bias: try n.constant(8, "B"))
      n.define(0, try requantized(n, y, scale: scale, input: 0))
    case "DynamicQuantizeLinear":
      let x = try n.required(0, "x")
      for output in ONNXDynamicQuantization.Output.allCases {
        let i = output.index
        guard i < n.node.output.count, !n.node.output[i].isEmpty else { continue }
        let layer = ONNXDynamicQuantization(output)
        let suffix = i == 0 ? "" : "_\(output.rawValue)"
        let y = try n.emit(layer, [x], hints: [n.hint(0)], suffix: suffix)
        n.define(i, output == .scale ? y : integer(y, .uint8))
      }
    default: throw NodeError("operator is not supported")
    }
  }

  /// Input `i` minus the zero point at input `zeroPoint`: a scalar, or one per index of `axis`
  /// (per row of A, per column of B, per channel).
  static func shifted(_ n: NodeConversion, _ i: Int, zeroPoint: Int, axis: Int) throws(NodeError) -> ValueRef {
    let x = try n.required(i, "operand \(i)")
    guard let zero = try n.constant(zeroPoint, "zero_point"), zero.ints.contains(where: { $0 != 0 }) else { return x }
    let shaped = try along(zero, axis: axis, n.shape(x), "zero_point")
    return try n.emit(ONNXOp(.sub), [x, .constant(ONNXConstant(shaped))], hints: [n.hint(i), n.name + "_zero\(i)"])
  }

  /// A constant weight minus its zero point (one per output channel, or one for all).
  static func weight(_ n: NodeConversion, _ i: Int, zeroPoint: Int) throws(NodeError) -> ONNXConstant {
    _ = try n.requiredConstant(i, "w")
    guard let w = try shifted(n, i, zeroPoint: zeroPoint, axis: 0).constant else {
      throw NodeError("input \(i) (w) is computed at run time; Lathe needs it constant (an initializer)")
    }
    return w
  }

  /// A scalar, or a vector laid along `axis` of a tensor of `shape`, shaped to broadcast there.
  static func along(_ c: ONNXConstant, axis: Int, _ shape: [Int], _ what: String) throws(NodeError) -> Tensor<Float> {
    if c.count == 1 { return c.floats.reshaped([]) }
    let rank = shape.count
    guard c.shape.count == 1, let resolved = ONNXShapes.axis(axis, rank: rank), shape[resolved] == c.count else {
      throw NodeError("\(what) of shape \(c.shape) fits neither all of \(shape) nor its axis \(axis)")
    }
    var dims = [Int](repeating: 1, count: rank)
    dims[resolved] = c.count
    return c.floats.reshaped(dims)
  }

  /// input_scale·weight_scale/y_scale, from the two scales shaped to broadcast over the
  /// result, with the rounding of the scales' own type (fp16 files compute it in fp16, as
  /// ONNX's reference does).
  static func multiplier(
    _ n: NodeConversion, _ a: Tensor<Float>, _ b: Tensor<Float>, type: Onnx_TensorProto.DataType
  ) throws(NodeError) -> Tensor<Float> {
    let output = try n.requiredConstant(6, "y_scale")
    guard output.count == 1 else { throw NodeError("y_scale should be one value, not \(output.shape)") }
    let y = output.floats.scalars[0]
    guard type == .float16 else { return a * b / y }
    return (a * b).mapFloat(roundedToHalf).mapFloat { roundedToHalf($0 / y) }
  }

  /// `v` rounded half to even to fp16's 11 significant bits (10 below its normal range).
  static func roundedToHalf(_ v: Float) -> Float {
    guard v.isFinite, v != 0 else { return v }
    let ulp = Float(sign: .plus, exponent: max(Int(v.exponent), -14) - 10, significand: 1)
    return (v / ulp).rounded(.toNearestOrEven) * ulp
  }

  /// An integer accumulator requantized to y's type: times `scale`, rounded half to even, plus
  /// the zero point, saturated. Without y_zero_point the type is the input's.
  static func requantized(_ n: NodeConversion, _ y: ValueRef, scale: Tensor<Float>, input: Int) throws(NodeError)
    -> ValueRef
  {
    let zero = try n.constant(7, "y_zero_point")
    let inputType = try n.required(input, "input").constant?.elementType ?? .uint8
    let type = zero?.elementType ?? inputType
    guard zero == nil || zero?.count == 1 else { throw NodeError("y_zero_point should be one value") }
    let scaled = try n.emit(ONNXOp(.mul), [y, .constant(ONNXConstant(scale))], hints: [n.name, n.name + "_scale"])
    // QuantizeLinear by a scale of one: the rounding, zero point and saturation.
    let layer = ONNXQuantization(
      .quantize, scale: Tensor(1), zeroPoint: zero?.floats.reshaped([]) ?? Tensor(0), axis: 0,
      range: try integerRange(type))
    return integer(try n.emit(layer, [scaled], suffix: "_requantize"), type)
  }

  /// A folded value given the integer type the operator outputs.
  static func integer(_ ref: ValueRef, _ type: Onnx_TensorProto.DataType) -> ValueRef {
    if case .constant(let c) = ref { return .constant(c.cast(to: type)) }
    return ref
  }
}
