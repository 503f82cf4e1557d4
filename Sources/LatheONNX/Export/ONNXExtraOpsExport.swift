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
