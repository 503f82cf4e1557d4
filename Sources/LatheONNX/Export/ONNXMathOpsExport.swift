import LatheTensor

/// Math operators go back out as the operator they came from. HardSwish (opset 14), Mish (18)
/// and tanh-approximated Gelu (20) are spelled out in opset-13 operators when the graph is
/// written at an earlier opset, so none of them raises the opset of the whole file.
extension ONNXMathOp: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) { try export.mathOp(kind) }
}

extension LayerExport {
  fileprivate func mathOp(_ kind: ONNXMathOp.Kind) throws(ONNXError) {
    let x = inputs[0]
    switch kind {
    case .unary("HardSwish") where builder.opset < 14:
      let gate = emit("HardSigmoid", [x], [Attr.float("alpha", 1 / 6), Attr.float("beta", 0.5)], final: false)
      emit("Mul", [x, gate])
    case .unary("Mish") where builder.opset < 18:
      let softplus = emit("Softplus", [x], final: false)
      emit("Mul", [x, emit("Tanh", [softplus], final: false)])
    case .unary("GeluTanh"):
      guard builder.opset < 20 else {
        emit("Gelu", [x], [Attr.string("approximate", "tanh")])
        return
      }
      // 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
      let cube = emit("Mul", [x, emit("Mul", [x, x], final: false)], final: false)
      let scaledCube = emit("Mul", [cube, builder.floats("\(name).c", Tensor(0.044_715))], final: false)
      let inner = emit("Add", [x, scaledCube], final: false)
      let scaled = emit("Mul", [inner, builder.floats("\(name).scale", Tensor(ONNXMathOp.geluScale))], final: false)
      let tanh = emit("Tanh", [scaled], final: false)
      let shifted = emit("Add", [tanh, builder.floats("\(name).one", Tensor(1))], final: false)
      let half = emit("Mul", [x, builder.floats("\(name).half", Tensor(0.5))], final: false)
      emit("Mul", [half, shifted])
    case .unary(let op): emit(op, [x])
    case .celu(let alpha): emit("Celu", [x], [Attr.float("alpha", alpha)])
    case .thresholdedRelu(let alpha): emit("ThresholdedRelu", [x], [Attr.float("alpha", alpha)])
    case .shrink(let lambd, let bias): emit("Shrink", [x], [Attr.float("lambd", lambd), Attr.float("bias", bias)])
    case .pow: emit("Pow", inputs)
    case .mod(let fmod): emit("Mod", inputs, [Attr.int("fmod", fmod ? 1 : 0)])
    case .variadic(let op): emit(op.rawValue, inputs)
    case .reduce(let op, let axes, let keep):
      let keepDims = Attr.int("keepdims", keep ? 1 : 0)
      if builder.opset >= 18 {
        // Opset 18 moved the Reduce* axes from an attribute to an input.
        emit(op.rawValue, axes.isEmpty ? [x] : [x, builder.int64s("\(name).axes", axes)], [keepDims])
      } else {
        emit(op.rawValue, [x], (axes.isEmpty ? [] : [Attr.ints("axes", axes)]) + [keepDims])
      }
    }
  }
}
