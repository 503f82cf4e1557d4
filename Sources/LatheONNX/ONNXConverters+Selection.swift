import Foundation
import LatheTensor

// Operators whose output size depends on the values: NonZero, Compress, Unique and
// NonMaxSuppression; and EyeLike, which depends only on its input's shape. Constant inputs
// fold exactly; NonZero, Unique and NonMaxSuppression of run-time values become layers the
// importer probes for their shapes. Compress needs a constant condition: it is then a Gather.
extension ONNXConverters {
  /// Every operator `selection` converts; `supported` lists them too.
  static let selectionOps: Set<String> = ["NonZero", "Compress", "Unique", "NonMaxSuppression", "EyeLike"]

  static func selection(_ n: NodeConversion) throws(NodeError) {
    switch n.node.opType {
    case "NonZero":
      let x = try n.required(0, "X")
      guard let c = x.constant else {
        n.define(0, try n.emit(ONNXNonZero(), [x], hints: [n.hint(0)]))
        return
      }
      let rows = ONNXNonZero.coordinates(c.floats.scalars, shape: c.shape)
      n.define(0, .constant(ONNXConstant(shape: [rows.count, rows.first?.count ?? 0], ints: rows.flatMap { $0 })))
    case "Compress": try compress(n)
    case "Unique": try unique(n)
    case "NonMaxSuppression":
      let boxes = try n.required(0, "boxes")
      let scores = try n.required(1, "scores")
      let (b, s) = (n.shape(boxes), n.shape(scores))
      guard b.count == 3, b[2] == 4, s.count == 3, s[0] == b[0], s[2] == b[1] else {
        throw NodeError("boxes \(b) and scores \(s) should be [batches, boxes, 4] and [batches, classes, boxes]")
      }
      let layer = ONNXNonMaxSuppression(
        maxPerClass: max(try n.constant(2, "max_output_boxes_per_class")?.ints.first ?? 0, 0),
        iouThreshold: try n.constant(3, "iou_threshold")?.floats.scalars.first ?? 0,
        scoreThreshold: try n.constant(4, "score_threshold")?.floats.scalars.first,
        centerPointBox: try n.attributes.int("center_point_box", 0) != 0)
      n.define(0, integer(try n.emit(layer, [boxes, scores], hints: [n.hint(0), n.hint(1)]), .int64))
    case "EyeLike": try eyeLike(n)
    default: throw NodeError("operator is not supported")
    }
  }

  /// Compress by a constant condition: the positions where it holds, gathered along the axis
  /// (of the flattened input without one). A condition shorter than the axis drops the rest.
  static func compress(_ n: NodeConversion) throws(NodeError) {
    var x = try n.required(0, "input")
    let condition = try n.requiredConstant(1, "condition")
    guard condition.shape.count == 1 else { throw NodeError("condition \(condition.shape) should be 1-D") }
    var axis = 0
    if n.attributes.has("axis") {
      let rank = n.shape(x).count
      guard let resolved = ONNXShapes.axis(try n.attributes.int("axis", 0), rank: rank) else {
        throw NodeError("axis is out of range for rank \(rank)")
      }
      axis = resolved
    } else {
      x = try n.movement(ONNXOp(.reshape(shape: [-1], allowZero: false)), x)
    }
    let size = n.shape(x)[axis]
    guard condition.count <= size else {
      throw NodeError("condition has \(condition.count) values, more than the \(size) along axis \(axis)")
    }
    let kept = condition.ints.enumerated().filter { $0.element != 0 }.map(\.offset)
    n.define(0, try n.movement(ONNXOp(.gather(axis: axis, indices: kept, indicesShape: [kept.count])), x))
  }

  static func unique(_ n: NodeConversion) throws(NodeError) {
    let x = try n.required(0, "X")
    var axis: Int?
    if n.attributes.has("axis") {
      let rank = n.shape(x).count
      axis = ONNXShapes.axis(try n.attributes.int("axis", 0), rank: rank)
      guard axis != nil else { throw NodeError("axis is out of range for rank \(rank)") }
    }
    let sorted = try n.attributes.int("sorted", 1) != 0
    for (i, output) in ONNXUnique.Output.allCases.enumerated() where i < n.node.output.count {
      guard !n.node.output[i].isEmpty else { continue }
      let layer = ONNXUnique(axis: axis, sorted: sorted, output: output)
      let y = try n.emit(layer, [x], hints: [n.hint(0)], suffix: i == 0 ? "" : "_\(output.rawValue)")
      n.define(i, output == .values ? integer(y, x.constant?.elementType ?? .float) : integer(y, .int64))
    }
  }

  /// EyeLike: ones on the k-th diagonal of a matrix of the input's shape, known at load.
  static func eyeLike(_ n: NodeConversion) throws(NodeError) {
    let x = try n.required(0, "input")
    let passes = n.shapes(x)
    let shape = passes[0]
    guard shape.count == 2, passes.allSatisfy({ $0 == shape }) else {
      throw NodeError("input \(shape) should be a matrix whose shape does not depend on the batch")
    }
    // Beyond the matrix the diagonal is empty (and i + k cannot overflow).
    let k = min(max(try n.attributes.int("k", 0), -shape[0]), shape[1])
    var values = [Int](repeating: 0, count: shape[0] * shape[1])
    for i in 0..<shape[0] where i + k >= 0 && i + k < shape[1] { values[i * shape[1] + i + k] = 1 }
    var type = x.constant?.elementType ?? .float
    if n.attributes.has("dtype") {
      guard let given = Onnx_TensorProto.DataType(rawValue: try n.attributes.int("dtype", 1)) else {
        throw NodeError("dtype is not an ONNX element type")
      }
      type = given
    }
    n.define(0, .constant(ONNXConstant(shape: shape, ints: values).cast(to: type)))
  }
}
