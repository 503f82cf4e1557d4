import LatheTensor

// `ONNXIndexOp` as a model file's layer spec and back, and its shape rule (see ONNXShapeRules.swift
// for why every imported layer has one).

extension ONNXIndexOp {
  public var spec: LayerSpec {
    var attributes: [String: AttributeValue] = [
      "indices": .ints(indices), "indices_shape": .ints(indicesShape),
    ]
    let op: String
    switch kind {
    case .gatherElements(let axis):
      (op, attributes["axis"]) = ("onnx.GatherElements", .int(axis))
    case .scatterElements(let axis, let reduction):
      (op, attributes["axis"], attributes["reduction"]) = (
        "onnx.ScatterElements", .int(axis), .string(reduction.rawValue)
      )
    case .gatherND(let batchDims):
      (op, attributes["batch_dims"]) = ("onnx.GatherND", .int(batchDims))
    case .scatterND(let reduction):
      (op, attributes["reduction"]) = ("onnx.ScatterND", .string(reduction.rawValue))
    }
    return LayerSpec(op: op, attributes: attributes)
  }

  /// The layer a spec describes, or nil when its op is not one of these (`ONNXLayers` asks).
  public convenience init?(spec s: LayerSpec) throws(ModelError) {
    func reduction() throws(ModelError) -> Reduction {
      let name = try s.string("reduction", default: "none")
      guard let r = Reduction(rawValue: name) else {
        throw .badAttribute(op: s.op, key: "reduction", expected: "none, add, mul, max or min")
      }
      return r
    }
    let kind: Kind
    switch s.op {
    case "onnx.GatherElements": kind = .gatherElements(axis: try s.int("axis"))
    case "onnx.ScatterElements": kind = .scatterElements(axis: try s.int("axis"), reduction: try reduction())
    case "onnx.GatherND": kind = .gatherND(batchDims: try s.int("batch_dims"))
    case "onnx.ScatterND": kind = .scatterND(reduction: try reduction())
    default: return nil
    }
    self.init(kind, indices: try s.ints("indices"), indicesShape: try s.ints("indices_shape"))
  }
}

extension ONNXIndexOp: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    guard inputs.count == (kind.isScatter ? 2 : 1) else {
      throw ShapeError("expects \(kind.isScatter ? "data and updates" : "one input"), got \(inputs.count) inputs")
    }
    let (shape, _) = try positions(inputs[0])
    guard kind.isScatter else { return shape }
    guard inputs[1] == shape else { throw ShapeError("updates \(inputs[1]) should have the shape \(shape)") }
    return inputs[0]
  }
}
