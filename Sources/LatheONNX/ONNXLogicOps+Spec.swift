import LatheTensor

// `ONNXLogicOp` as a model file's layer spec and back, and its shape rule (see ONNXShapeRules.swift
// for why every imported layer has one).

extension ONNXLogicOp {
  public var spec: LayerSpec {
    switch kind {
    case .compare(let op): return LayerSpec(op: "onnx.\(op.rawValue)")
    case .not: return LayerSpec(op: "onnx.Not")
    case .logic(let op): return LayerSpec(op: "onnx.\(op.rawValue)")
    case .select: return LayerSpec(op: "onnx.Where")
    case .isNaN: return LayerSpec(op: "onnx.IsNaN")
    case .isInf(let positive, let negative):
      return LayerSpec(
        op: "onnx.IsInf", attributes: ["detect_positive": .bool(positive), "detect_negative": .bool(negative)])
    case .arg(let op, let axis, let keep, let last):
      return LayerSpec(
        op: "onnx.\(op.rawValue)",
        attributes: ["axis": .int(axis), "keepdims": .bool(keep), "select_last_index": .bool(last)])
    case .cumSum(let axis, let exclusive, let reverse):
      return LayerSpec(
        op: "onnx.CumSum", attributes: ["axis": .int(axis), "exclusive": .bool(exclusive), "reverse": .bool(reverse)])
    case .trilu(let upper, let k):
      return LayerSpec(op: "onnx.Trilu", attributes: ["upper": .bool(upper), "k": .int(k)])
    case .size: return LayerSpec(op: "onnx.Size")
    }
  }

  /// The layer a spec describes, or nil when its op is not one of these (`ONNXLayers` asks).
  public convenience init?(spec s: LayerSpec) throws(ModelError) {
    guard s.op.hasPrefix("onnx.") else { return nil }
    let name = String(s.op.dropFirst(5))
    if let op = Comparison(rawValue: name) {
      self.init(.compare(op))
    } else if let op = Logic(rawValue: name) {
      self.init(.logic(op))
    } else if let op = Extreme(rawValue: name) {
      self.init(
        .arg(
          op, axis: try s.int("axis"), keepDims: try s.bool("keepdims", default: true),
          selectLast: try s.bool("select_last_index", default: false)))
    } else {
      switch name {
      case "Not": self.init(.not)
      case "Where": self.init(.select)
      case "IsNaN": self.init(.isNaN)
      case "IsInf":
        self.init(
          .isInf(
            positive: try s.bool("detect_positive", default: true),
            negative: try s.bool("detect_negative", default: true)))
      case "CumSum":
        self.init(
          .cumSum(
            axis: try s.int("axis"), exclusive: try s.bool("exclusive", default: false),
            reverse: try s.bool("reverse", default: false)))
      case "Trilu": self.init(.trilu(upper: try s.bool("upper", default: true), k: try s.int("k")))
      case "Size": self.init(.size)
      default: return nil
      }
    }
  }
}

extension ONNXLogicOp: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    switch kind {
    case .compare, .logic:
      try ShapeRules.inputs(inputs, count: 2)
      return try ONNXShapes.broadcast(inputs)
    case .select:
      try ShapeRules.inputs(inputs, count: 3)
      return try ONNXShapes.broadcast(inputs)
    case .not, .isNaN, .isInf: return try ONNXShapes.single(inputs)
    case .arg(_, let axis, let keep, _):
      var shape = try ONNXShapes.single(inputs)
      guard axis >= 0, axis < shape.count else { throw ShapeError("axis \(axis) is out of range for \(shape)") }
      guard shape[axis] > 0 else { throw ShapeError("axis \(axis) of \(shape) is empty: it has no extreme") }
      if keep { shape[axis] = 1 } else { shape.remove(at: axis) }
      return shape
    case .cumSum(let axis, _, _):
      let shape = try ONNXShapes.single(inputs)
      guard axis >= 0, axis < shape.count else { throw ShapeError("axis \(axis) is out of range for \(shape)") }
      return shape
    case .trilu:
      let shape = try ONNXShapes.single(inputs)
      guard shape.count >= 2 else { throw ShapeError("needs a matrix or a batch of them, not \(shape)") }
      return shape
    case .size:
      _ = try ONNXShapes.single(inputs)
      return []
    }
  }
}
