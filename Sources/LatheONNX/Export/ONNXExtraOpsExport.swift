import LatheTensor

/// LpNormalization and Einsum go back out as themselves (both are in the exporter's opset).
extension ONNXLpNormalization: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    export.emit("LpNormalization", [export.inputs[0]], [Attr.int("axis", axis), Attr.int("p", p)])
  }
}

extension ONNXEinsum: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    export.emit("Einsum", export.inputs, [Attr.string("equation", equation)])
  }
}

/// CenterCropPad (opset 18), its sizes written as an int64 initializer.
extension ONNXCenterCropPad: ONNXExportable {
  var minimumONNXOpset: Int { 18 }

  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    let shape = export.builder.initializer(
      TensorEncoder.proto("\(export.name).shape", shape: [sizes.count], int64: sizes))
    export.emit("CenterCropPad", [export.inputs[0], shape], [Attr.ints("axes", axes)])
  }
}
