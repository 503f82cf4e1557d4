import Foundation
import LatheTensor

/// BitwiseAnd, BitwiseOr, BitwiseXor, BitwiseNot, LpNormalization, Einsum and CenterCropPad. The bitwise ops
/// compute on bit patterns the engine's fp32 cannot hold past 2^24, so they fold at load,
/// exactly, at the element type's width, and a run-time input is refused; LpNormalization and
/// Einsum (and CenterCropPad) become `ONNXLpNormalization` and `ONNXEinsum` (`ONNXCenterCropPad`), folded when every input is constant.
extension ONNXConverters {
  /// Every operator `extra` converts; `supported` lists them too.
  static let extraOps: Set<String> = [
    "BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitwiseNot", "LpNormalization", "Einsum", "CenterCropPad",
    "RotaryEmbedding",
  ]

  static func extra(_ n: NodeConversion) throws(NodeError) {
    switch n.node.opType {
    case "BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitwiseNot": n.define(0, .constant(try bitwise(n)))
    case "LpNormalization":
      let x = try n.required(0, "input")
      let rank = n.shape(x).count
      let axis = try n.attributes.int("axis", -1)
      let p = try n.attributes.int("p", 2)
      guard let resolved = ONNXShapes.axis(axis, rank: rank) else {
        throw NodeError("axis \(axis) is out of range for rank \(rank)")
      }
      guard p == 1 || p == 2 else { throw NodeError("p is \(p); LpNormalization takes 1 or 2") }
      try emitOrFold(n, ONNXLpNormalization(axis: resolved, p: p), [x])
    case "Einsum":
      let layer: ONNXEinsum
      do { layer = try ONNXEinsum(equation: try n.attributes.string("equation", "")) } catch {
        throw NodeError("equation: \(error)")
      }
      var inputs: [ValueRef] = []
      for i in 0..<n.node.input.count { inputs.append(try n.required(i, "operand \(i)")) }
      try emitOrFold(n, layer, inputs)
    case "CenterCropPad":
      let x = try n.required(0, "input_data")
      let rank = n.shape(x).count
      let sizes = try n.requiredConstant(1, "shape").ints
      var axes: [Int] = []
      for a in try n.attributes.ints("axes") ?? Array(0..<rank) {
        guard let r = ONNXShapes.axis(a, rank: rank), !axes.contains(r) else {
          throw NodeError("axes hold \(a), out of range for rank \(rank) or repeated")
        }
        axes.append(r)
      }
      guard sizes.count == axes.count, sizes.allSatisfy({ $0 >= 0 }) else {
        throw NodeError("shape \(sizes) should hold one non-negative size per axis of \(axes)")
      }
      try emitOrFold(n, ONNXCenterCropPad(axes: axes, sizes: sizes), [x])
    case "RotaryEmbedding":
      let x = try n.required(0, "X")
      let (cos, sin) = (try n.required(1, "cos_cache"), try n.required(2, "sin_cache"))
      // Position ids index the caches' rows: integers, read at load.
      var positions: [Int]? = nil
      if n.node.input.count > 3, !n.node.input[3].isEmpty {
        positions = try n.requiredConstant(3, "position_ids").ints
        guard positions!.allSatisfy({ $0 >= 0 }) else { throw NodeError("position_ids hold a negative position") }
      }
      let a = n.attributes
      let layer = ONNXRotaryEmbedding(
        interleaved: try a.int("interleaved", 0) != 0, rotaryDim: try a.int("rotary_embedding_dim", 0),
        heads: try a.int("num_heads", 0), positions: positions)
      try emitOrFold(n, layer, [x, cos, sin])
    default: throw NodeError("operator is not supported")
    }
  }

  /// Emits `layer`, or runs it at load when every input is a constant.
  static func emitOrFold(_ n: NodeConversion, _ layer: Layer & ShapeChecking, _ inputs: [ValueRef]) throws(NodeError) {
    let constants = inputs.compactMap(\.constant)
    if constants.count == inputs.count, let first = constants.first {
      try GraphImporter.checkShapes(layer, constants.map(\.shape))
      var context = ForwardContext.inference
      let y = layer.forward(constants.map { Variable($0.floats) }, context: &context).value
      n.define(0, .constant(ONNXConstant(y, elementType: .float).cast(to: first.elementType)))
    } else {
      n.define(0, try n.emit(layer, inputs, hints: inputs.indices.map { n.hint($0) }))
    }
  }

  /// The bitwise ops on integer constants, broadcasting as ONNX does. Values are held as Int
  /// (unsigned 64-bit ones as their bit pattern), so And, Or and Xor of in-range values stay in
  /// range; Not is masked back to the width for narrower unsigned types.
  static func bitwise(_ n: NodeConversion) throws(NodeError) -> ONNXConstant {
    let x = try n.requiredConstant(0, "A")
    guard let width = integerWidths[x.elementType] else {
      throw NodeError("\(n.node.opType) reads integers, not \(x.elementType)")
    }
    if n.node.opType == "BitwiseNot" {
      let signed = [.int8, .int16, .int32, .int64].contains(x.elementType)
      let mask = width < 64 && !signed ? (1 << width) - 1 : -1
      return ONNXConstant(shape: x.shape, ints: x.ints.map { ~$0 & mask }, elementType: x.elementType)
    }
    let y = try n.requiredConstant(1, "B")
    guard y.elementType == x.elementType else {
      throw NodeError("A is \(x.elementType) but B is \(y.elementType)")
    }
    guard let shape = broadcastShape(x.shape, y.shape) else {
      throw NodeError("shapes \(x.shape) and \(y.shape) do not broadcast")
    }
    let op: (Int, Int) -> Int
    switch n.node.opType {
    case "BitwiseAnd": op = (&)
    case "BitwiseOr": op = (|)
    default: op = (^)
    }
    let (a, b) = (x.ints, y.ints)
    let (ix, iy) = (IndexMap.expand(input: x.shape, output: shape), IndexMap.expand(input: y.shape, output: shape))
    return ONNXConstant(shape: shape, ints: ix.indices.map { op(a[ix[$0]], b[iy[$0]]) }, elementType: x.elementType)
  }
}
