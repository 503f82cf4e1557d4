import LatheTensor

/// NegativeLogLikelihoodLoss goes back out as itself (opset 13, the exporter's floor; the
/// operator exists from 12), its targets cast to int64 since Lathe holds them as fp32.
/// SoftmaxCrossEntropyLoss was imported as LogSoftmax then this layer, and leaves as those two.
extension ONNXNegativeLogLikelihoodLoss: ONNXExportable {
  var minimumONNXOpset: Int { ONNXExporter.opsetVersion }

  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    /// TensorProto.DataType INT64, as Cast's "to" spells it.
    let int64 = 7
    let target = export.emit("Cast", [export.inputs[1]], [Attr.int("to", int64)], final: false)
    var attributes = [Attr.string("reduction", reduction.rawValue)]
    if let ignoreIndex { attributes.append(Attr.int("ignore_index", ignoreIndex)) }
    export.emit("NegativeLogLikelihoodLoss", [export.inputs[0], target] + export.inputs.dropFirst(2), attributes)
  }
}
