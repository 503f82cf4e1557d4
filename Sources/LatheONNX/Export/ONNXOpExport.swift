import LatheTensor

/// Imported operators go back out as the operator they came from.
extension ONNXOp: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) { try export.onnxOp(kind) }
}

extension LayerExport {
  fileprivate func onnxOp(_ kind: ONNXOp.Kind) throws(ONNXError) {
    let x = inputs[0]
    switch kind {
    case .identity: emit("Identity", [x])
    case .onesLike:
      let shape = emit("Shape", [x], final: false)
      emit(
        "ConstantOfShape", [shape], [Attr.tensor("value", TensorEncoder.proto("one", Tensor(shape: [1], scalars: [1])))]
      )
    case .unary(let op): emit(op, [x])
    case .sub: emit("Sub", inputs)
    case .mul: emit("Mul", inputs)
    case .div: emit("Div", inputs)
    case .matmul: emit("MatMul", inputs)
    case .elu(let alpha): emit("Elu", [x], [Attr.float("alpha", alpha)])
    case .selu(let alpha, let gamma): emit("Selu", [x], [Attr.float("alpha", alpha), Attr.float("gamma", gamma)])
    case .softplus: emit("Softplus", [x])
    case .softsign: emit("Softsign", [x])
    case .hardSigmoid(let alpha, let beta):
      emit("HardSigmoid", [x], [Attr.float("alpha", alpha), Attr.float("beta", beta)])
    case .clip(let low, let high):
      emit("Clip", [x, builder.floats("\(name).min", Tensor(low)), builder.floats("\(name).max", Tensor(high))])
    case .reshape(let shape, let allowZero):
      let hasInferred = shape.contains(-1)
      let target = shape.map { $0 == ONNXConstant.batchMarker ? (hasInferred ? 0 : -1) : $0 }
      emit("Reshape", [x, builder.int64s("\(name).shape", target)], allowZero ? [Attr.int("allowzero", 1)] : [])
    case .flatten(let axis): emit("Flatten", [x], [Attr.int("axis", axis)])
    case .transpose(let permutation):
      emit("Transpose", [x], permutation.isEmpty ? [] : [Attr.ints("perm", permutation)])
    case .squeeze(let axes): emit("Squeeze", axes.isEmpty ? [x] : [x, builder.int64s("\(name).axes", axes)])
    case .unsqueeze(let axes): emit("Unsqueeze", [x, builder.int64s("\(name).axes", axes)])
    case .slice(let starts, let ends, let axes, let steps):
      emit(
        "Slice",
        [
          x, builder.int64s("\(name).starts", starts), builder.int64s("\(name).ends", ends),
          builder.int64s("\(name).axes", axes.isEmpty ? Array(0..<starts.count) : axes),
          builder.int64s("\(name).steps", steps.isEmpty ? Array(repeating: 1, count: starts.count) : steps),
        ])
    case .gather(let axis, let indices, let indicesShape):
      let proto = TensorEncoder.proto("\(name).indices", shape: indicesShape, int64: indices)
      emit("Gather", [x, builder.initializer(proto)], [Attr.int("axis", axis)])
    case .pad(let pads, let mode, let value):
      emit(
        "Pad", [x, builder.int64s("\(name).pads", pads), builder.floats("\(name).value", Tensor(value))],
        [Attr.string("mode", mode)])
    case .expand(let shape): emit("Expand", [x, builder.int64s("\(name).shape", shape)])
    case .lrn(let size, let alpha, let beta, let bias):
      emit(
        "LRN", [x],
        [Attr.int("size", size), Attr.float("alpha", alpha), Attr.float("beta", beta), Attr.float("bias", bias)])
    case .globalMaxPool: emit("GlobalMaxPool", [x])
    case .reduceMean(let axes, let keep):
      let keepDims = Attr.int("keepdims", keep ? 1 : 0)
      if builder.opset >= 18 {
        // Opset 18 moved ReduceMean's axes from an attribute to an input.
        emit("ReduceMean", axes.isEmpty ? [x] : [x, builder.int64s("\(name).axes", axes)], [keepDims])
      } else {
        emit("ReduceMean", [x], (axes.isEmpty ? [] : [Attr.ints("axes", axes)]) + [keepDims])
      }
    case .reduceSum(let axes, let keep):
      emit(
        "ReduceSum", axes.isEmpty ? [x] : [x, builder.int64s("\(name).axes", axes)],
        [Attr.int("keepdims", keep ? 1 : 0)])
    case .softmax(let axis, let coerced), .logSoftmax(let axis, let coerced):
      let op = if case .softmax = kind { "Softmax" } else { "LogSoftmax" }
      guard coerced else {
        emit(op, [x], [Attr.int("axis", axis)])
        return
      }
      // Opset < 13 semantics: normalise over everything from `axis` on, then restore the shape.
      let flat = emit("Flatten", [x], [Attr.int("axis", axis)], final: false)
      let normalized = emit(op, [flat], [Attr.int("axis", 1)], final: false)
      let shape = emit("Shape", [x], final: false)
      emit("Reshape", [normalized, shape])
    }
  }
}
