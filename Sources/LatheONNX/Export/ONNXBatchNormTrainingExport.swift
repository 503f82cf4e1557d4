import LatheTensor

extension ONNXBatchNormTraining: ONNXExportable {
  /// Training-mode BatchNormalization arrives in opset 14.
  var minimumONNXOpset: Int { 14 }

  func writeONNX(_ export: LayerExport) throws(ONNXError) { try export.batchNormTraining(self) }
}

extension LayerExport {
  fileprivate func batchNormTraining(_ l: ONNXBatchNormTraining) throws(ONNXError) {
    guard builder.opset >= 14 else { throw fail("training-mode BatchNormalization needs opset 14") }
    let parts = [l.scale, l.bias, l.runningMean, l.runningVariance].enumerated().map { k, p in
      builder.floats("\(name).\(["scale", "bias", "mean", "var"][k])", p.value)
    }
    let attributes = [
      Attr.float("epsilon", l.epsilon), Attr.float("momentum", l.momentum), Attr.int("training_mode", 1),
    ]
    let y = emit("BatchNormalization", [inputs[0]] + parts, attributes, final: false)
    let outputs = [y, y + "_mean", y + "_var"]
    builder.nodes[builder.nodes.count - 1].output = outputs
    let chosen = ["normalized": 0, "mean": 1, "variance": 2][l.output.rawValue]!
    emit("Identity", [outputs[chosen]])
  }
}
