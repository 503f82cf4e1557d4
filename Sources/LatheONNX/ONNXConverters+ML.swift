import Foundation
import LatheTensor

// The `ai.onnx.ml` operators that carry plain tensors and are other layers: ArrayFeatureExtractor
// (constant indices into the last axis) is a Gather; Binarizer is a Greater against its
// threshold; Scaler is (x − offset)·scale; Normalizer divides each row by its max, L1 or L2
// norm (at least 1e-30), as arithmetic and reductions. ZipMap and the rest build maps and sequences, which Lathe does not hold: the
// importer lists them as unsupported, domain-qualified (`ai.onnx.ml.ZipMap`).
extension ONNXConverters {
  /// The domain these operators live in, as nodes name it.
  static let mlDomain = "ai.onnx.ml"

  /// Every `ai.onnx.ml` operator `ml` converts (`converts` checks the domain as well).
  static let mlOps: Set<String> = ["ArrayFeatureExtractor", "Binarizer", "Scaler", "Normalizer"]

  static func ml(_ n: NodeConversion) throws(NodeError) {
    let x = try n.required(0, "X")
    switch n.node.opType {
    case "ArrayFeatureExtractor":
      let indices = try n.requiredConstant(1, "Y").ints
      let shape = n.shape(x)
      guard let size = shape.last, indices.allSatisfy({ $0 >= -size && $0 < size }) else {
        throw NodeError("indices \(indices) are out of range for the last axis of \(shape)")
      }
      let gather = ONNXOp(.gather(axis: shape.count - 1, indices: indices, indicesShape: [indices.count]))
      var y = try n.movement(gather, x)
      // A vector's features come out as a matrix of one row, as ONNX Runtime gives them.
      if shape.count == 1 { y = try n.movement(ONNXOp(.reshape(shape: [1, indices.count], allowZero: true)), y) }
      n.define(0, y)
    case "Binarizer":
      let threshold = ONNXConstant(Tensor(try n.attributes.float("threshold", 0)))
      n.define(0, try n.emit(ONNXLogicOp(.compare(.greater)), [x, .constant(threshold)], hints: [n.hint(0), n.name]))
    case "Scaler":
      let width = n.shape(x).last ?? 1
      func vector(_ name: String, _ fallback: Float) throws(NodeError) -> ValueRef {
        let v = try n.attributes.floats(name) ?? [fallback]
        guard v.count == 1 || v.count == width else {
          throw NodeError("\(name) has \(v.count) values; it needs 1 or one per feature (\(width))")
        }
        return .constant(ONNXConstant(Tensor(shape: [v.count], scalars: v)))
      }
      let shifted = try n.emit(ONNXOp(.sub), [x, try vector("offset", 0)], hints: [n.hint(0), n.name + "_offset"])
      n.define(0, try n.emit(ONNXOp(.mul), [shifted, try vector("scale", 1)], hints: [n.name, n.name + "_scale"]))
    case "Normalizer": n.define(0, try normalizer(n, x))
    default: throw NodeError("operator is not supported")
    }
  }

  /// Each row of a matrix divided by its norm, at least 1e-30 (a zero row stays zero).
  static func normalizer(_ n: NodeConversion, _ x: ValueRef) throws(NodeError) -> ValueRef {
    guard n.shape(x).count == 2 else { throw NodeError("input \(n.shape(x)) should be a matrix [N, features]") }
    let kind = try n.attributes.string("norm", "MAX")
    let reduction: ONNXMathOp.Reduction
    var rows = x
    switch kind {
    case "MAX":
      rows = try n.emit(ONNXOp(.unary("Abs")), [x], hints: [n.hint(0)], suffix: "_abs")
      reduction = .max
    case "L1": reduction = .l1
    case "L2": reduction = .l2
    default: throw NodeError("norm \"\(kind)\" is not MAX, L1 or L2")
    }
    let norm = try n.emit(
      ONNXMathOp(.reduce(reduction, axes: [1], keepDims: true)), [rows], hints: [n.hint(0)], suffix: "_norm")
    let floor = ONNXConstant(Tensor(Float(1e-30)))
    let divisor = try n.emit(
      ONNXMathOp(.variadic(.max)), [norm, .constant(floor)], hints: [n.name, n.name + "_floor"])
    return try n.emit(ONNXOp(.div), [x, divisor], hints: [n.hint(0), n.name])
  }
}
