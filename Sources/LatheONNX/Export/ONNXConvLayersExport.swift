import LatheTensor

// The ONNX forms of the layers in ONNXConvLayers.swift.

extension ONNXConv: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) { export.onnxConv(self) }
}

extension ONNXConvTranspose: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) { export.convTranspose(self) }
}

extension LayerExport {
  fileprivate func onnxConv(_ l: ONNXConv) {
    let w = builder.floats("\(name).weight", l.weight.value)
    let b = l.bias.map { builder.floats("\(name).bias", $0.value) }
    let window = l.window
    emit(
      "Conv", [inputs[0], w] + (b.map { [$0] } ?? []),
      conv(l.weight.shape, window.stride, window.pads, window.dilation, l.groups))
  }

  fileprivate func convTranspose(_ l: ONNXConvTranspose) {
    let w = builder.floats("\(name).weight", l.weight.value)
    let b = l.bias.map { builder.floats("\(name).bias", $0.value) }
    var attributes = conv(l.weight.shape, l.stride, l.padding, l.dilation, l.groups)
    attributes.append(Attr.ints("output_padding", l.outputPadding))
    emit("ConvTranspose", [inputs[0], w] + (b.map { [$0] } ?? []), attributes)
  }
}
