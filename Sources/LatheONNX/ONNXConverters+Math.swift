import Foundation
import LatheTensor

/// Elementwise math, variadic Max/Min/Mean, Pow, Mod and the Reduce* family onto `ONNXMathOp`.
extension ONNXConverters {
  /// Every operator `math` converts; `supported` lists them too (a test keeps the two agreeing).
  static let mathOps: Set<String> = Set(
    ["Gelu", "Celu", "ThresholdedRelu", "Shrink", "Pow", "Mod"] + ONNXMathOp.unaryNames.subtracting(["GeluTanh"])
      + ONNXMathOp.Variadic.allCases.map(\.rawValue) + ONNXMathOp.Reduction.allCases.map(\.rawValue))

  /// Whether `math` converts this node. Gelu only in its tanh form: approximate="none" is the
  /// engine's own GELU, which `convert` handles.
  static func isMath(_ n: NodeConversion) -> Bool {
    guard mathOps.contains(n.node.opType) else { return false }
    guard n.node.opType == "Gelu" else { return true }
    return n.attributes.attribute("approximate").map { String(decoding: $0.s, as: UTF8.self) } == "tanh"
  }

  static func math(_ n: NodeConversion) throws(NodeError) {
    let a = n.attributes
    let op = n.node.opType
    if let reduction = ONNXMathOp.Reduction(rawValue: op) { return try reduce(n, reduction) }
    if let variadic = ONNXMathOp.Variadic(rawValue: op) {
      let count = n.node.input.count
      guard count > 0 else { throw NodeError("\(op) needs at least one input") }
      // One input is the identity (as for Sum): nothing to compute, nothing to store.
      let layer = ONNXMathOp(.variadic(variadic))
      n.define(0, count == 1 ? try n.required(0, "input") : try n.emit(layer, inputs: Array(0..<count)))
      return
    }
    let kind: ONNXMathOp.Kind
    switch op {
    case "Gelu": kind = .unary("GeluTanh")
    case "Celu": kind = .celu(alpha: try a.float("alpha", 1))
    case "ThresholdedRelu": kind = .thresholdedRelu(alpha: try a.float("alpha", 1))
    case "Shrink": kind = .shrink(lambd: try a.float("lambd", 0.5), bias: try a.float("bias", 0))
    case "Pow":
      n.define(0, try n.emit(ONNXMathOp(.pow), inputs: [0, 1]))
      return
    case "Mod":
      // fmod=0 takes the divisor's sign (numpy.mod), on integers (exact in Lathe's fp32 while
      // below 2^24) and, in ONNX's newer node tests, on floats too; fmod=1 the dividend's (C fmod).
      n.define(0, try n.emit(ONNXMathOp(.mod(fmod: try a.int("fmod", 0) != 0)), inputs: [0, 1]))
      return
    default: kind = .unary(op)
    }
    n.define(0, try n.emit(ONNXMathOp(kind), inputs: [0]))
  }

  /// Axes as an attribute (before opset 18; ReduceSum's moved in 13) or as a constant input,
  /// as ReduceMean and ReduceSum read them.
  static func reduce(_ n: NodeConversion, _ op: ONNXMathOp.Reduction) throws(NodeError) {
    let x = try n.required(0, "data")
    let rank = n.shape(x).count
    let axes = try n.ints(attribute: "axes", input: 1, "axes") ?? []
    guard axes.allSatisfy({ $0 >= -rank && $0 < rank }) else {
      throw NodeError("axes \(axes) are out of range for rank \(rank)")
    }
    guard Set(axes.map { ($0 + rank) % rank }).count == axes.count else {
      throw NodeError("axes \(axes) name an axis twice")
    }
    if axes.isEmpty, try n.attributes.int("noop_with_empty_axes", 0) != 0 {
      n.define(0, x)
      return
    }
    let keep = try n.attributes.int("keepdims", 1) != 0
    let kind = ONNXMathOp.Kind.reduce(op, axes: axes.map { ($0 + rank) % rank }, keepDims: keep)
    n.define(0, try n.emit(ONNXMathOp(kind), [x], hints: [n.hint(0)]))
  }
}
