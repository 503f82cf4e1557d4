import LatheTensor

// `ONNXNegativeLogLikelihoodLoss` as a model file's layer spec and back, and its shape rule (see
// ONNXShapeRules.swift for why every imported layer has one).

extension ONNXNegativeLogLikelihoodLoss {
  public var spec: LayerSpec {
    var attributes: [String: AttributeValue] = ["reduction": .string(reduction.rawValue)]
    if let ignoreIndex { attributes["ignore_index"] = .int(ignoreIndex) }
    return LayerSpec(op: "onnx.NegativeLogLikelihoodLoss", attributes: attributes)
  }

  /// The layer a spec describes, or nil when its op is not this one (`ONNXLayers` asks).
  public convenience init?(spec s: LayerSpec) throws(ModelError) {
    guard s.op == "onnx.NegativeLogLikelihoodLoss" else { return nil }
    guard let reduction = Reduction(rawValue: try s.string("reduction", default: "mean")) else {
      throw .badAttribute(op: s.op, key: "reduction", expected: "none, sum or mean")
    }
    // Absent means no index is ignored; present, it must be an integer.
    let ignoreIndex = s.attributes["ignore_index"] == nil ? nil : try s.int("ignore_index")
    self.init(reduction: reduction, ignoreIndex: ignoreIndex)
  }
}

extension ONNXNegativeLogLikelihoodLoss: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    guard inputs.count == 2 || inputs.count == 3 else {
      throw ShapeError("takes scores, targets and an optional weight, not \(inputs.count) inputs")
    }
    let (x, target) = (inputs[0], inputs[1])
    guard x.count >= 2 else { throw ShapeError("scores \(x) need a batch and a class axis ([N, C, ...])") }
    let expected = [x[0]] + x.dropFirst(2)
    guard target == expected else {
      throw ShapeError("targets \(target) do not match scores \(x): expected \(expected)")
    }
    if inputs.count == 3, inputs[2] != [x[1]] {
      throw ShapeError("weight \(inputs[2]) is not one value per class ([\(x[1])])")
    }
    return reduction == .none ? target : []
  }
}
