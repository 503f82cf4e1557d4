import Foundation
import LatheTensor

/// Comparisons, logic, Where, IsNaN/IsInf, ArgMax/ArgMin, CumSum, Trilu, Size and CastLike onto
/// `ONNXLogicOp`. On constant inputs each folds at load, exactly for integers, so the shape
/// arithmetic exporters write (Equal, Where and friends on Shape results) stays constant.
extension ONNXConverters {
  /// Every operator `logic` converts; `supported` lists them too (a test keeps the two agreeing).
  static let logicOps: Set<String> = Set(
    ONNXLogicOp.Comparison.allCases.map(\.rawValue) + ONNXLogicOp.Logic.allCases.map(\.rawValue)
      + ONNXLogicOp.Extreme.allCases.map(\.rawValue)
      + ["Not", "Where", "IsNaN", "IsInf", "CumSum", "Trilu", "Size", "CastLike"])

  static func logic(_ n: NodeConversion) throws(NodeError) {
    let a = n.attributes
    let op = n.node.opType
    let x = try n.required(0, "input")
    let rank = n.shape(x).count
    var inputs = [x]
    let kind: ONNXLogicOp.Kind
    if let comparison = ONNXLogicOp.Comparison(rawValue: op) {
      kind = .compare(comparison)
      inputs.append(try n.required(1, "B"))
    } else if let logic = ONNXLogicOp.Logic(rawValue: op) {
      kind = .logic(logic)
      inputs.append(try n.required(1, "B"))
    } else if let extreme = ONNXLogicOp.Extreme(rawValue: op) {
      let axis = try a.int("axis", 0)
      guard let resolved = ONNXShapes.axis(axis, rank: rank) else {
        throw NodeError("axis \(axis) is out of range for rank \(rank)")
      }
      kind = .arg(
        extreme, axis: resolved, keepDims: try a.int("keepdims", 1) != 0,
        selectLast: try a.int("select_last_index", 0) != 0)
    } else {
      switch op {
      case "Not": kind = .not
      case "IsNaN": kind = .isNaN
      case "IsInf":
        kind = .isInf(positive: try a.int("detect_positive", 1) != 0, negative: try a.int("detect_negative", 1) != 0)
      case "Where":
        kind = .select
        inputs += [try n.required(1, "X"), try n.required(2, "Y")]
      case "CumSum":
        let axes = try n.requiredConstant(1, "axis").ints
        guard axes.count == 1, let axis = ONNXShapes.axis(axes[0], rank: rank) else {
          throw NodeError("axis \(axes) is not one axis of rank \(rank)")
        }
        kind = .cumSum(axis: axis, exclusive: try a.int("exclusive", 0) != 0, reverse: try a.int("reverse", 0) != 0)
      case "Trilu":
        let k = try n.constant(1, "k")?.ints ?? [0]
        guard k.count == 1 else { throw NodeError("k holds \(k.count) values; it is one integer") }
        // Past the matrix either way k keeps all or nothing: clamp it so model files store it.
        let bound = 1 << 31
        kind = .trilu(upper: try a.int("upper", 1) != 0, k: min(max(k[0], -bound), bound))
      case "Size": return try size(n, x)
      case "CastLike": return try castLike(n, x)
      default: throw NodeError("operator is not supported")
      }
    }
    let layer = ONNXLogicOp(kind)
    let constants = inputs.compactMap(\.constant)
    if constants.count == inputs.count {
      try GraphImporter.checkShapes(layer, constants.map(\.shape))
      n.define(0, .constant(fold(kind, constants)))
      return
    }
    n.define(0, try n.emit(layer, inputs, hints: inputs.indices.map { n.hint($0) }))
  }

  /// The op on constants, with the element type ONNX gives its output: bool for tests, int64
  /// for indices, the data's own for the rest. Comparisons and Where on integers work on the
  /// integers themselves (fp32 would round int64 shape values and the batch marker).
  static func fold(_ kind: ONNXLogicOp.Kind, _ c: [ONNXConstant]) -> ONNXConstant {
    let integral = c.allSatisfy { !$0.isFloatingPoint }
    let shape = c.dropFirst().reduce(c[0].shape) { broadcastShape($0, $1.shape) ?? $0 }
    func expanded(_ k: Int) -> [Int] { IndexMap.expand(input: c[k].shape, output: shape) }
    switch kind {
    case .compare(let op) where integral:
      let (x, y, ix, iy) = (c[0].ints, c[1].ints, expanded(0), expanded(1))
      let holds = ix.indices.map { k -> Int in
        let (p, q) = (x[ix[k]], y[iy[k]])
        let result: Bool
        switch op {
        case .equal: result = p == q
        case .less: result = p < q
        case .lessOrEqual: result = p <= q
        case .greater: result = p > q
        case .greaterOrEqual: result = p >= q
        }
        return result ? 1 : 0
      }
      return ONNXConstant(shape: shape, ints: holds, elementType: .bool)
    case .select where !c[1].isFloatingPoint && !c[2].isFloatingPoint:
      let (condition, x, y) = (c[0].ints, c[1].ints, c[2].ints)
      let (ic, ix, iy) = (expanded(0), expanded(1), expanded(2))
      let picked = ic.indices.map { condition[ic[$0]] != 0 ? x[ix[$0]] : y[iy[$0]] }
      return ONNXConstant(shape: shape, ints: picked, elementType: c[1].elementType)
    default:
      var context = ForwardContext.inference
      let y = ONNXLogicOp(kind).forward(c.map { Variable($0.floats) }, context: &context).value
      let type: Onnx_TensorProto.DataType
      switch kind {
      case .compare, .not, .logic, .isNaN, .isInf: type = .bool
      case .arg, .size: type = .int64
      case .select: type = c[1].isFloatingPoint ? c[1].elementType : c[2].elementType
      case .cumSum, .trilu: type = c[0].elementType
      }
      return ONNXConstant(y, elementType: .float).cast(to: type)
    }
  }

  /// Size: the element count, known at load unless the shape holds the batch.
  static func size(_ n: NodeConversion, _ x: ValueRef) throws(NodeError) {
    let counts = Set(n.shapes(x).map { $0.reduce(1, *) })
    if counts.count == 1, let count = counts.first {
      n.define(0, .constant(ONNXConstant(shape: [], ints: [count])))
    } else {
      n.define(0, try n.emit(ONNXLogicOp(.size), [x], hints: [n.hint(0)]))
    }
  }

  /// CastLike as Cast: a constant takes the target's element type (truncating toward zero into
  /// integers, x ≠ 0 into bool); a run-time value stays fp32, as the engine computes, so the
  /// cast is the identity. A run-time target is fp32 for the same reason.
  static func castLike(_ n: NodeConversion, _ x: ValueRef) throws(NodeError) {
    let target = try n.required(1, "target_type")
    guard let c = x.constant else {
      n.define(0, x)
      return
    }
    n.define(0, .constant(c.cast(to: target.constant?.elementType ?? .float)))
  }
}
