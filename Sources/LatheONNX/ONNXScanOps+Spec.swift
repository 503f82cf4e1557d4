import LatheTensor

// `ONNXScanOp` as a model file's layer spec and back, and its shape rule (see ONNXShapeRules.swift
// for why every imported layer has one).

extension ONNXScanOp {
  public var spec: LayerSpec {
    switch kind {
    case .cumProd(let axis, let exclusive, let reverse):
      return LayerSpec(
        op: "onnx.CumProd", attributes: ["axis": .int(axis), "exclusive": .bool(exclusive), "reverse": .bool(reverse)])
    case .hardmax(let axis, let coerced):
      return LayerSpec(op: "onnx.Hardmax", attributes: ["axis": .int(axis), "coerced": .bool(coerced)])
    }
  }

  /// The layer a spec describes, or nil when its op is not one of these (`ONNXLayers` asks).
  public convenience init?(spec s: LayerSpec) throws(ModelError) {
    switch s.op {
    case "onnx.CumProd":
      self.init(
        .cumProd(
          axis: try s.int("axis"), exclusive: try s.bool("exclusive", default: false),
          reverse: try s.bool("reverse", default: false)))
    case "onnx.Hardmax":
      self.init(.hardmax(axis: try s.int("axis"), coerced: try s.bool("coerced", default: false)))
    default: return nil
    }
  }
}

/// The layers ONNXConverters+Scan.swift imports into, rebuilt from their specs.
enum ONNXScanLayers {
  static func make(_ spec: LayerSpec) throws(ModelError) -> Layer? {
    if let layer = try ONNXScanOp(spec: spec) { return layer }
    if let layer = try ONNXLpPool(spec: spec) { return layer }
    return try ONNXGridSample(spec: spec)
  }
}

extension ONNXScanOp: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let shape = try ONNXShapes.single(inputs)
    let axis: Int
    switch kind {
    case .cumProd(let a, _, _): axis = a
    case .hardmax(let a, _): axis = a
    }
    guard axis >= 0, axis < shape.count else { throw ShapeError("axis \(axis) is out of range for \(shape)") }
    return shape
  }
}
