import LatheTensor

// The ONNX forms of the layers in ONNXNormalizationLayers.swift and ONNXRearrangeOps.swift.

extension ONNXNormalization: ONNXExportable {
  /// LayerNormalization arrives in opset 17, GroupNormalization's per-channel form in 21 and
  /// RMSNormalization in 23; InstanceNormalization is older than the default.
  var minimumONNXOpset: Int {
    switch kind {
    case .layer: 17
    case .rms: 23
    case .group: 21
    case .instance: ONNXExporter.opsetVersion
    }
  }

  func writeONNX(_ export: LayerExport) { export.normalization(self) }
}

extension ONNXRearrange: ONNXExportable {
  /// SpaceToDepth's CRD mode arrives in opset 28.
  var minimumONNXOpset: Int {
    if case .spaceToDepth(_, true) = kind { return 28 }
    return ONNXExporter.opsetVersion
  }

  func writeONNX(_ export: LayerExport) { export.rearrange(kind) }
}

extension LayerExport {
  fileprivate func normalization(_ l: ONNXNormalization) {
    var attributes = [Attr.float("epsilon", l.epsilon)]
    switch l.kind {
    case .layer, .rms: attributes.append(Attr.int("axis", l.axis))
    case .group: attributes.append(Attr.int("num_groups", l.groups))
    case .instance: break
    }
    // The statistics layers have no weights; LayerNormalization still needs a Scale: ones over
    // the normalised axes (taken from the input's shape), which leave Mean and InvStdDev as they are.
    let scale: String
    if let weight = l.scale {
      scale = builder.floats("\(name).scale", weight.value)
    } else {
      let shape = emit("Shape", [inputs[0]], [Attr.int("start", l.axis)], final: false)
      let one = TensorEncoder.proto("one", Tensor(shape: [1], scalars: [1]))
      scale = emit("ConstantOfShape", [shape], [Attr.tensor("value", one)], final: false)
    }
    var operands = [inputs[0], scale]
    if let bias = l.bias { operands.append(builder.floats("\(name).bias", bias.value)) }
    guard l.output != .normalized else {
      emit(l.kind.rawValue, operands, attributes)
      return
    }
    let y = emit(l.kind.rawValue, operands, attributes, final: false)
    let outputs = [y, y + "_mean", y + "_inv_std_dev"]
    builder.nodes[builder.nodes.count - 1].output = outputs
    emit("Identity", [outputs[l.output == .mean ? 1 : 2]])
  }

  fileprivate func rearrange(_ kind: ONNXRearrange.Kind) {
    let x = inputs[0]
    switch kind {
    case .depthToSpace(let b, let crd):
      emit("DepthToSpace", [x], [Attr.int("blocksize", b), Attr.string("mode", crd ? "CRD" : "DCR")])
    case .spaceToDepth(let b, let crd):
      emit("SpaceToDepth", [x], [Attr.int("blocksize", b)] + (crd ? [Attr.string("mode", "CRD")] : []))
    case .tile(let repeats): emit("Tile", [x, builder.int64s("\(name).repeats", repeats)])
    }
  }
}
