import LatheTensor

/// Activations, reshapes and joins, one ONNX operator each (GELU spelled out before opset 20).
extension Function: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) { try export.function(kind) }
}

extension LayerExport {
  fileprivate func function(_ kind: Function.Kind) throws(ONNXError) {
    let x = inputs[0]
    switch kind {
    case .relu: emit("Relu", [x])
    case .sigmoid: emit("Sigmoid", [x])
    case .silu:
      let gate = emit("Sigmoid", [x], final: false)
      emit("Mul", [x, gate])
    case .tanh: emit("Tanh", [x])
    case .softmax: emit("Softmax", [x], [Attr.int("axis", -1)])
    case .logSoftmax: emit("LogSoftmax", [x], [Attr.int("axis", -1)])
    case .leakyRelu(let slope): emit("LeakyRelu", [x], [Attr.float("alpha", slope)])
    case .flatten(let axis):
      if axis == 1 {
        emit("Flatten", [x], [Attr.int("axis", 1)])
      } else {
        emit("Reshape", [x, builder.int64s("\(name).shape", Array(repeating: 0, count: axis) + [-1])])
      }
    case .globalAvgPool: emit("GlobalAveragePool", [x])
    case .dropout: emit("Identity", [x])
    case .add:
      if inputs.count == 2 { emit("Add", inputs) } else { emit("Sum", inputs) }
    case .concat(let axis): emit("Concat", inputs, [Attr.int("axis", axis)])
    case .gelu:
      // 0.5 · x · (1 + erf(x / √2)); Gelu itself only arrives in opset 20.
      let root2 = builder.floats("\(name).sqrt2", Tensor(Float(2).squareRoot()))
      let one = builder.floats("\(name).one", Tensor(1))
      let half = builder.floats("\(name).half", Tensor(0.5))
      let scaled = emit("Div", [x, root2], final: false)
      let erf = emit("Erf", [scaled], final: false)
      let shifted = emit("Add", [erf, one], final: false)
      let product = emit("Mul", [x, shifted], final: false)
      emit("Mul", [product, half])
    case .geluTanh:
      // 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))).
      let cube = builder.floats("\(name).c3", Tensor(0.044715))
      let root = builder.floats("\(name).c", Tensor(Float(2 / Double.pi).squareRoot()))
      let one = builder.floats("\(name).one", Tensor(1))
      let half = builder.floats("\(name).half", Tensor(0.5))
      let square = emit("Mul", [x, x], final: false)
      let cubed = emit("Mul", [square, x], final: false)
      let scaledCube = emit("Mul", [cubed, cube], final: false)
      let inner = emit("Add", [x, scaledCube], final: false)
      let argument = emit("Mul", [inner, root], final: false)
      let tanh = emit("Tanh", [argument], final: false)
      let shifted = emit("Add", [tanh, one], final: false)
      let product = emit("Mul", [x, shifted], final: false)
      emit("Mul", [product, half])
    }
  }
}
