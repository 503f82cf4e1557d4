import LatheTensor

/// `ONNXOp` kinds as layer specs and back, for model files.
enum ONNXOpSpec {
  static func spec(_ kind: ONNXOp.Kind) -> LayerSpec {
    switch kind {
    case .identity: return LayerSpec(op: "onnx.Identity")
    case .onesLike: return LayerSpec(op: "onnx.OnesLike")
    case .unary(let name): return LayerSpec(op: "onnx.\(name)")
    case .sub: return LayerSpec(op: "onnx.Sub")
    case .mul: return LayerSpec(op: "onnx.Mul")
    case .div: return LayerSpec(op: "onnx.Div")
    case .matmul: return LayerSpec(op: "onnx.MatMul")
    case .elu(let alpha): return LayerSpec(op: "onnx.Elu", attributes: ["alpha": .float(alpha)])
    case .selu(let alpha, let gamma):
      return LayerSpec(op: "onnx.Selu", attributes: ["alpha": .float(alpha), "gamma": .float(gamma)])
    case .softplus: return LayerSpec(op: "onnx.Softplus")
    case .softsign: return LayerSpec(op: "onnx.Softsign")
    case .hardSigmoid(let alpha, let beta):
      return LayerSpec(op: "onnx.HardSigmoid", attributes: ["alpha": .float(alpha), "beta": .float(beta)])
    case .clip(let low, let high):
      return LayerSpec(op: "onnx.Clip", attributes: ["min": .float(low), "max": .float(high)])
    case .reshape(let shape, let allowZero):
      return LayerSpec(op: "onnx.Reshape", attributes: ["shape": .ints(shape), "allowzero": .bool(allowZero)])
    case .flatten(let axis): return LayerSpec(op: "onnx.Flatten", attributes: ["axis": .int(axis)])
    case .transpose(let permutation): return LayerSpec(op: "onnx.Transpose", attributes: ["perm": .ints(permutation)])
    case .squeeze(let axes): return LayerSpec(op: "onnx.Squeeze", attributes: ["axes": .ints(axes)])
    case .unsqueeze(let axes): return LayerSpec(op: "onnx.Unsqueeze", attributes: ["axes": .ints(axes)])
    case .slice(let starts, let ends, let axes, let steps):
      return LayerSpec(
        op: "onnx.Slice",
        attributes: ["starts": .ints(starts), "ends": .ints(ends), "axes": .ints(axes), "steps": .ints(steps)])
    case .gather(let axis, let indices, let indicesShape):
      return LayerSpec(
        op: "onnx.Gather",
        attributes: ["axis": .int(axis), "indices": .ints(indices), "indices_shape": .ints(indicesShape)])
    case .pad(let pads, let mode, let value):
      return LayerSpec(
        op: "onnx.Pad", attributes: ["pads": .ints(pads), "mode": .string(mode), "value": .float(value)])
    case .expand(let shape): return LayerSpec(op: "onnx.Expand", attributes: ["shape": .ints(shape)])
    case .lrn(let size, let alpha, let beta, let bias):
      return LayerSpec(
        op: "onnx.LRN",
        attributes: ["size": .int(size), "alpha": .float(alpha), "beta": .float(beta), "bias": .float(bias)])
    case .globalMaxPool: return LayerSpec(op: "onnx.GlobalMaxPool")
    case .reduceMean(let axes, let keep):
      return LayerSpec(op: "onnx.ReduceMean", attributes: ["axes": .ints(axes), "keepdims": .bool(keep)])
    case .reduceSum(let axes, let keep):
      return LayerSpec(op: "onnx.ReduceSum", attributes: ["axes": .ints(axes), "keepdims": .bool(keep)])
    case .softmax(let axis, let coerced):
      return LayerSpec(op: "onnx.Softmax", attributes: ["axis": .int(axis), "coerced": .bool(coerced)])
    case .logSoftmax(let axis, let coerced):
      return LayerSpec(op: "onnx.LogSoftmax", attributes: ["axis": .int(axis), "coerced": .bool(coerced)])
    }
  }

  /// The kind a spec describes; nil for ops that are not `ONNXOp`s.
  static func kind(_ s: LayerSpec) throws(ModelError) -> ONNXOp.Kind? {
    func ints(_ key: String) throws(ModelError) -> [Int] {
      if case .ints(let v) = s.attributes[key] { return v }
      if case .int(let v) = s.attributes[key] { return [v] }
      if s.attributes[key] == nil { return [] }
      throw .badAttribute(op: s.op, key: key, expected: "a list of integers")
    }
    if s.op.hasPrefix("onnx."), ONNXOp.unaryNames.contains(String(s.op.dropFirst(5))) {
      return .unary(String(s.op.dropFirst(5)))
    }
    switch s.op {
    case "onnx.Identity": return .identity
    case "onnx.OnesLike": return .onesLike
    case "onnx.Sub": return .sub
    case "onnx.Mul": return .mul
    case "onnx.Div": return .div
    case "onnx.MatMul": return .matmul
    case "onnx.Elu": return .elu(alpha: try s.float("alpha", default: 1))
    case "onnx.Selu":
      return .selu(alpha: try s.float("alpha", default: 1.67326), gamma: try s.float("gamma", default: 1.0507))
    case "onnx.Softplus": return .softplus
    case "onnx.Softsign": return .softsign
    case "onnx.HardSigmoid":
      return .hardSigmoid(alpha: try s.float("alpha", default: 0.2), beta: try s.float("beta", default: 0.5))
    case "onnx.Clip":
      return .clip(min: try s.float("min", default: -.infinity), max: try s.float("max", default: .infinity))
    case "onnx.Reshape": return .reshape(shape: try ints("shape"), allowZero: try s.bool("allowzero", default: false))
    case "onnx.Flatten": return .flatten(axis: try s.int("axis"))
    case "onnx.Transpose": return .transpose(permutation: try ints("perm"))
    case "onnx.Squeeze": return .squeeze(axes: try ints("axes"))
    case "onnx.Unsqueeze": return .unsqueeze(axes: try ints("axes"))
    case "onnx.Slice":
      return .slice(
        starts: try ints("starts"), ends: try ints("ends"), axes: try ints("axes"), steps: try ints("steps"))
    case "onnx.Gather":
      return .gather(axis: try s.int("axis"), indices: try ints("indices"), indicesShape: try ints("indices_shape"))
    case "onnx.Pad":
      return .pad(
        pads: try ints("pads"), mode: try s.string("mode", default: "constant"), value: try s.float("value", default: 0)
      )
    case "onnx.Expand": return .expand(shape: try ints("shape"))
    case "onnx.LRN":
      return .lrn(
        size: try s.int("size"), alpha: try s.float("alpha", default: 1e-4), beta: try s.float("beta", default: 0.75),
        bias: try s.float("bias", default: 1))
    case "onnx.GlobalMaxPool": return .globalMaxPool
    case "onnx.ReduceMean": return .reduceMean(axes: try ints("axes"), keepDims: try s.bool("keepdims", default: true))
    case "onnx.ReduceSum": return .reduceSum(axes: try ints("axes"), keepDims: try s.bool("keepdims", default: true))
    case "onnx.Softmax": return .softmax(axis: try s.int("axis"), coerced: try s.bool("coerced", default: false))
    case "onnx.LogSoftmax": return .logSoftmax(axis: try s.int("axis"), coerced: try s.bool("coerced", default: false))
    default: return nil
    }
  }
}
