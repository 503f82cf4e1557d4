import LatheTensor

// `ONNXLpNormalization` and `ONNXEinsum` as a model file's layer specs and back, and their shape
// rules (see ONNXShapeRules.swift for why every imported layer has one).

extension ONNXLpNormalization {
  public var spec: LayerSpec { LayerSpec(op: "onnx.LpNormalization", attributes: ["axis": .int(axis), "p": .int(p)]) }
}

extension ONNXEinsum {
  public var spec: LayerSpec { LayerSpec(op: "onnx.Einsum", attributes: ["equation": .string(equation)]) }
}

/// The layers ONNXConverters+Extra.swift imports into, rebuilt from their specs.
enum ONNXExtraLayers {
  static func make(_ s: LayerSpec) throws(ModelError) -> Layer? {
    switch s.op {
    case "onnx.LpNormalization":
      let p = try s.int("p")
      guard p == 1 || p == 2 else { throw .badAttribute(op: s.op, key: "p", expected: "1 or 2") }
      return ONNXLpNormalization(axis: try s.int("axis"), p: p)
    case "onnx.CenterCropPad": return ONNXCenterCropPad(axes: try s.ints("axes"), sizes: try s.ints("sizes"))
    case "onnx.RotaryEmbedding":
      let positions = s.attributes["positions"] == nil ? nil : try s.ints("positions")
      return ONNXRotaryEmbedding(
        interleaved: try s.bool("interleaved", default: false), rotaryDim: try s.int("rotary_dim"),
        heads: try s.int("heads"), positions: positions)
    case "onnx.Einsum": return try ONNXEinsum(equation: try s.string("equation", default: ""))
    default: return nil
    }
  }
}

extension ONNXLpNormalization: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let shape = try ONNXShapes.single(inputs)
    guard axis >= 0, axis < shape.count else { throw ShapeError("axis \(axis) is out of range for \(shape)") }
    return shape
  }
}

extension ONNXEinsum: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    guard let sizes = sizes(inputs) else {
      throw ShapeError("operands \(inputs) do not fit the equation \"\(equation)\"")
    }
    return output.map { sizes[$0] }
  }
}
