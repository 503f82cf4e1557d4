import LatheTensor

// `ONNXMathOp` as a model file's layer spec and back, and its shape rule (see ONNXShapeRules.swift
// for why every imported layer has one).

extension ONNXMathOp {
  public var spec: LayerSpec {
    switch kind {
    case .unary(let name): return LayerSpec(op: "onnx.\(name)")
    case .celu(let alpha): return LayerSpec(op: "onnx.Celu", attributes: ["alpha": .float(alpha)])
    case .thresholdedRelu(let alpha): return LayerSpec(op: "onnx.ThresholdedRelu", attributes: ["alpha": .float(alpha)])
    case .shrink(let lambd, let bias):
      return LayerSpec(op: "onnx.Shrink", attributes: ["lambd": .float(lambd), "bias": .float(bias)])
    case .pow: return LayerSpec(op: "onnx.Pow")
    case .mod(let fmod): return LayerSpec(op: "onnx.Mod", attributes: ["fmod": .bool(fmod)])
    case .variadic(let op): return LayerSpec(op: "onnx.\(op.rawValue)")
    case .reduce(let op, let axes, let keep):
      return LayerSpec(op: "onnx.\(op.rawValue)", attributes: ["axes": .ints(axes), "keepdims": .bool(keep)])
    }
  }

  /// The layer a spec describes, or nil when its op is not one of these (`ONNXLayers` asks).
  public convenience init?(spec s: LayerSpec) throws(ModelError) {
    guard s.op.hasPrefix("onnx.") else { return nil }
    let name = String(s.op.dropFirst(5))
    if Self.unaryNames.contains(name) {
      self.init(.unary(name))
    } else if let op = Variadic(rawValue: name) {
      self.init(.variadic(op))
    } else if let op = Reduction(rawValue: name) {
      self.init(.reduce(op, axes: try s.ints("axes", default: []), keepDims: try s.bool("keepdims", default: true)))
    } else {
      switch name {
      case "Celu": self.init(.celu(alpha: try s.float("alpha", default: 1)))
      case "ThresholdedRelu": self.init(.thresholdedRelu(alpha: try s.float("alpha", default: 1)))
      case "Shrink":
        self.init(.shrink(lambd: try s.float("lambd", default: 0.5), bias: try s.float("bias", default: 0)))
      case "Pow": self.init(.pow)
      case "Mod": self.init(.mod(fmod: try s.bool("fmod", default: false)))
      default: return nil
      }
    }
  }
}

extension ONNXMathOp: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    switch kind {
    case .unary, .celu, .thresholdedRelu, .shrink: return try ONNXShapes.single(inputs)
    case .pow, .mod:
      try ShapeRules.inputs(inputs, count: 2)
      return try ONNXShapes.broadcast(inputs)
    case .variadic: return try ONNXShapes.broadcast(inputs)
    case .reduce(_, let axes, let keep):
      return try ONNXOp.reduceShape(axes, keepDims: keep, of: ONNXShapes.single(inputs))
    }
  }
}
