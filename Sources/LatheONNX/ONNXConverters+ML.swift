import Foundation
import LatheTensor

// The `ai.onnx.ml` operators that carry plain tensors and are other layers: ArrayFeatureExtractor
// (constant indices into the last axis) is a Gather; Binarizer is a Greater against its
// threshold. ZipMap and the rest build maps and sequences, which Lathe does not hold: the
// importer lists them as unsupported, domain-qualified (`ai.onnx.ml.ZipMap`).
extension ONNXConverters {
  /// The domain these operators live in, as nodes name it.
  static let mlDomain = "ai.onnx.ml"

  /// Every `ai.onnx.ml` operator `ml` converts (`converts` checks the domain as well).
  static let mlOps: Set<String> = ["ArrayFeatureExtractor", "Binarizer"]

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
    default: throw NodeError("operator is not supported")
    }
  }
}
