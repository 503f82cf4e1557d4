import LatheTensor

/// Logic operators go back out as the operator they came from, with casts around it: Lathe's
/// values are fp32 everywhere, but ONNX's And/Or/Xor/Not and Where's condition read booleans
/// and the tests, ArgMax/ArgMin and Size write booleans or int64. The casts keep every value
/// between layers a float, as the next layer's ONNX form expects. Trilu needs opset 14.
extension ONNXLogicOp: ONNXExportable {
  var minimumONNXOpset: Int {
    if case .trilu = kind { return 14 }
    return ONNXExporter.opsetVersion
  }

  func writeONNX(_ export: LayerExport) throws(ONNXError) { try export.logicOp(kind) }
}

extension LayerExport {
  fileprivate func logicOp(_ kind: ONNXLogicOp.Kind) throws(ONNXError) {
    let x = inputs[0]
    switch kind {
    case .compare(let op): toFloat(emit(op.rawValue, inputs, final: false))
    case .not: toFloat(emit("Not", [toBool(x)], final: false))
    case .logic(let op): toFloat(emit(op.rawValue, inputs.map(toBool), final: false))
    case .select: emit("Where", [toBool(x), inputs[1], inputs[2]])
    case .isNaN: toFloat(emit("IsNaN", [x], final: false))
    case .isInf(let positive, let negative):
      let attributes = [Attr.int("detect_positive", positive ? 1 : 0), Attr.int("detect_negative", negative ? 1 : 0)]
      toFloat(emit("IsInf", [x], attributes, final: false))
    case .arg(let op, let axis, let keep, let last):
      // select_last_index is opset 12; leaving out its default keeps the node valid before.
      let attributes =
        [Attr.int("axis", axis), Attr.int("keepdims", keep ? 1 : 0)] + (last ? [Attr.int("select_last_index", 1)] : [])
      toFloat(emit(op.rawValue, [x], attributes, final: false))
    case .cumSum(let axis, let exclusive, let reverse):
      let axisInput = builder.initializer(TensorEncoder.proto("\(name).axis", shape: [], int64: [axis]))
      emit(
        "CumSum", [x, axisInput], [Attr.int("exclusive", exclusive ? 1 : 0), Attr.int("reverse", reverse ? 1 : 0)])
    case .trilu(let upper, let k):
      let kInput = builder.initializer(TensorEncoder.proto("\(name).k", shape: [], int64: [k]))
      emit("Trilu", [x, kInput], [Attr.int("upper", upper ? 1 : 0)])
    case .size: toFloat(emit("Size", [x], final: false))
    }
  }

  /// TensorProto.DataType FLOAT and BOOL, as Cast's "to" spells them.
  private static let float = 1
  private static let bool = 9

  private func toBool(_ value: String) -> String { emit("Cast", [value], [Attr.int("to", Self.bool)], final: false) }

  /// The node's output: `value` cast to fp32.
  private func toFloat(_ value: String) { emit("Cast", [value], [Attr.int("to", Self.float)]) }
}
