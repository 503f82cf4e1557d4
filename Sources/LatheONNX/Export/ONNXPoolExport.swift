import LatheTensor

extension ONNXPool: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) { try export.pool(self) }
}

extension LayerExport {
  fileprivate func pool(_ l: ONNXPool) throws(ONNXError) {
    let w = l.window
    var attributes = [
      Attr.ints("kernel_shape", w.kernel), Attr.ints("strides", w.stride), Attr.ints("pads", w.pads),
      Attr.int("ceil_mode", w.ceilMode ? 1 : 0),
    ]
    switch l.kind {
    case .max: emit("MaxPool", [inputs[0]], attributes + [Attr.ints("dilations", w.dilation)])
    case .average:
      guard w.dilation.allSatisfy({ $0 == 1 }) else { throw fail("dilated average pooling needs opset 19") }
      attributes.append(Attr.int("count_include_pad", l.countIncludePad ? 1 : 0))
      emit("AveragePool", [inputs[0]], attributes)
    case .indices:
      // The values output is unused here; the indices come out as int64, cast to the engine's fp32.
      attributes += [Attr.ints("dilations", w.dilation), Attr.int("storage_order", l.storageOrder)]
      let pooled = builder.node("MaxPool", [inputs[0]], name: name, attributes)
      builder.nodes[builder.nodes.count - 1].output = [pooled + "_values", pooled]
      emit("Cast", [pooled], [Attr.int("to", Int(Onnx_TensorProto.DataType.float.rawValue))])
    }
  }
}
