import LatheTensor

/// GatherElements, GatherND, ScatterElements and ScatterND go back out as themselves, the
/// indices as an int64 initializer. A reduction other than none needs opset 16, max and min 18.
extension ONNXIndexOp: ONNXExportable {
  var minimumONNXOpset: Int {
    switch kind.reduction {
    case .none: return 13
    case .add, .mul: return 16
    case .max, .min: return 18
    }
  }

  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    let proto = TensorEncoder.proto("\(export.name).indices", shape: indicesShape, int64: indices)
    let positions = export.builder.initializer(proto)
    let inputs = [export.inputs[0], positions] + export.inputs.dropFirst()
    // Opset 13 has no reduction attribute; "none" is its behaviour.
    let reduction = kind.reduction == .none ? [] : [Attr.string("reduction", kind.reduction.rawValue)]
    switch kind {
    case .gatherElements(let axis): export.emit("GatherElements", inputs, [Attr.int("axis", axis)])
    case .scatterElements(let axis, _):
      export.emit("ScatterElements", inputs, [Attr.int("axis", axis)] + reduction)
    case .gatherND(let batchDims): export.emit("GatherND", inputs, [Attr.int("batch_dims", batchDims)])
    case .scatterND: export.emit("ScatterND", inputs, reduction)
    }
  }
}

/// OneHot with its depth and values as initializers.
extension ONNXOneHot: ONNXExportable {
  var minimumONNXOpset: Int { ONNXExporter.opsetVersion }

  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    let name = export.name
    let depthInput = export.builder.initializer(TensorEncoder.proto("\(name).depth", shape: [], int64: [depth]))
    let values = export.builder.floats("\(name).values", Tensor(shape: [2], scalars: [off, on]))
    export.emit("OneHot", [export.inputs[0], depthInput, values], [Attr.int("axis", axis)])
  }
}
