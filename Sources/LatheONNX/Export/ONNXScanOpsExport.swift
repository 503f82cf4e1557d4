import LatheTensor

/// CumProd and Hardmax go back out as themselves; CumProd needs opset 26, where it appeared.
/// The coerced (pre-13) Hardmax is written in opset 13's terms: flattened at its axis, taken
/// over the last axis, and reshaped back to the input's shape.
extension ONNXScanOp: ONNXExportable {
  var minimumONNXOpset: Int {
    if case .cumProd = kind { return 26 }
    return ONNXExporter.opsetVersion
  }

  func writeONNX(_ export: LayerExport) throws(ONNXError) { export.scanOp(kind) }
}

/// LpPool, with the window attributes MaxPool shares (dilations and ceil_mode are opset 18's).
extension ONNXLpPool: ONNXExportable {
  var minimumONNXOpset: Int { 18 }

  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    let w = window
    export.emit(
      "LpPool", [export.inputs[0]],
      [
        Attr.int("p", p), Attr.ints("kernel_shape", w.kernel), Attr.ints("strides", w.stride),
        Attr.ints("pads", w.pads), Attr.ints("dilations", w.dilation), Attr.int("ceil_mode", w.ceilMode ? 1 : 0),
      ])
  }
}

extension LayerExport {
  fileprivate func scanOp(_ kind: ONNXScanOp.Kind) {
    let x = inputs[0]
    switch kind {
    case .cumProd(let axis, let exclusive, let reverse):
      let axisInput = builder.initializer(TensorEncoder.proto("\(name).axis", shape: [], int64: [axis]))
      emit(
        "CumProd", [x, axisInput], [Attr.int("exclusive", exclusive ? 1 : 0), Attr.int("reverse", reverse ? 1 : 0)])
    case .hardmax(let axis, coerced: false): emit("Hardmax", [x], [Attr.int("axis", axis)])
    case .hardmax(let axis, coerced: true):
      let flat = emit("Flatten", [x], [Attr.int("axis", axis)], final: false)
      let hard = emit("Hardmax", [flat], [Attr.int("axis", -1)], final: false)
      emit("Reshape", [hard, emit("Shape", [x], final: false)])
    }
  }
}

/// GridSample in opset 20's terms (linear and cubic, any number of spatial axes).
extension ONNXGridSample: ONNXExportable {
  var minimumONNXOpset: Int { 20 }

  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    export.emit(
      "GridSample", export.inputs,
      [
        Attr.string("mode", mode.rawValue), Attr.string("padding_mode", padding.rawValue),
        Attr.int("align_corners", alignCorners ? 1 : 0),
      ])
  }
}
