import LatheTensor

/// A layer that knows its ONNX form. `LayerExport` asks each node's layer for this conformance
/// instead of switching over layer types, so a layer type's ONNX form lives in one file here,
/// named for the layer's family (layers from LatheTensor and LatheCompress conform by
/// extension: those modules cannot see ONNX).
protocol ONNXExportable: Layer {
  /// The first opset that can express the layer; the graph is written at the largest over its
  /// layers. Defaults to `ONNXExporter.opsetVersion`.
  var minimumONNXOpset: Int { get }
  /// Writes the layer's own operators through `export`, the last one writing `export.output`.
  /// A folded ReLU (`ReLUFolding`) is not written here: `LayerExport.export` adds it after.
  func writeONNX(_ export: LayerExport) throws(ONNXError)
}

extension ONNXExportable {
  var minimumONNXOpset: Int { ONNXExporter.opsetVersion }
}
