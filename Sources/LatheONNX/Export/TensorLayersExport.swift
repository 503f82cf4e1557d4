import LatheTensor

// The ONNX forms of LatheTensor's own layers (Layers.swift); Function's is in FunctionExport.swift.

/// Gemm with the weight transposed (transB), or MatMul and Add over a rank-3 or higher input.
extension Linear: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) { export.linear(self) }
}

extension Conv2d: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) { export.conv2d(self) }
}

/// Inference-mode BatchNormalization; ONNX's momentum weighs the old statistics, Lathe's the new.
extension BatchNorm: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) { export.batchNorm(self) }
}

extension Pool2d: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) { try export.pool2d(self) }
}

extension LayerExport {
  fileprivate func linear(_ l: Linear) { fullyConnected(weight: l.weight.value, bias: l.bias?.value) }

  fileprivate func conv2d(_ l: Conv2d) {
    let w = builder.floats("\(name).weight", l.weight.value)
    let b = l.bias.map { builder.floats("\(name).bias", $0.value) }
    emit(
      "Conv", [inputs[0], w] + (b.map { [$0] } ?? []), conv(l.weight.shape, l.stride, l.padding, l.dilation, l.groups)
    )
  }

  fileprivate func batchNorm(_ l: BatchNorm) {
    let parts = [l.gamma, l.beta, l.runningMean, l.runningVariance].enumerated().map { k, p in
      builder.floats("\(name).\(["scale", "bias", "mean", "var"][k])", p.value)
    }
    emit(
      "BatchNormalization", [inputs[0]] + parts,
      [Attr.float("epsilon", l.epsilon), Attr.float("momentum", 1 - l.momentum)])
  }

  fileprivate func pool2d(_ l: Pool2d) throws(ONNXError) {
    let g = l.geometry
    var attributes = [
      Attr.ints("kernel_shape", [g.kernelHeight, g.kernelWidth]), Attr.ints("strides", g.stride),
      Attr.ints("pads", g.padding), Attr.int("ceil_mode", g.ceilMode ? 1 : 0),
    ]
    if l.kind == .max {
      attributes.append(Attr.ints("dilations", g.dilation))
    } else {
      guard g.dilation == [1, 1] else { throw fail("dilated average pooling needs opset 19") }
      attributes.append(Attr.int("count_include_pad", l.countIncludePad ? 1 : 0))
    }
    emit(l.kind == .max ? "MaxPool" : "AveragePool", [inputs[0]], attributes)
  }
}
