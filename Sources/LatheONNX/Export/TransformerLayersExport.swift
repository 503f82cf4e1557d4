import LatheTensor

// The ONNX forms of LatheTensor's transformer layers (TransformerLayers.swift). The graph reads
// token ids as floats, as Lathe feeds them, and casts them to int64 for Gather.

/// The table as an initializer under the node's output name, read by Gather and the tied head.
extension TokenTable: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    export.builder.initializers.append(TensorEncoder.proto(export.output, weight.value))
  }
}

extension TokenEmbedding: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    let ids = export.emit("Cast", [export.inputs[1]], [Attr.int("to", 7)], final: false)
    export.emit("Gather", [export.inputs[0], ids], [Attr.int("axis", 0)])
  }
}

/// x + table[0..<sequence], the length read from x's shape, so any length up to the table runs.
extension PositionEmbedding: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    let name = export.name
    let b = export.builder
    let table = b.floats("\(name).weight", weight.value)
    let shape = export.emit("Shape", [export.inputs[0]], final: false)
    let length = export.emit(
      "Slice", [shape, b.int64s("\(name).one", [1]), b.int64s("\(name).two", [2])], final: false)
    let rows = export.emit("Slice", [table, b.int64s("\(name).zero", [0]), length], final: false)
    export.emit("Add", [export.inputs[0], rows])
  }
}

/// LayerNormalization (opset 17) and RMSNormalization (opset 23) over the last axis.
extension Normalization: ONNXExportable {
  var minimumONNXOpset: Int { kind == .layer ? 17 : 23 }

  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    let name = export.name
    var operands = [export.inputs[0], export.builder.floats("\(name).scale", gamma.value)]
    if let beta { operands.append(export.builder.floats("\(name).bias", beta.value)) }
    export.emit(
      kind == .layer ? "LayerNormalization" : "RMSNormalization", operands,
      [Attr.int("axis", -1), Attr.float("epsilon", epsilon)])
  }
}

/// ONNX's Attention (opset 23) on 3-D inputs, heads given as attributes. A key mask [batch,
/// keys] of 1/0 becomes a boolean [batch, 1, 1, keys] (true: attend), which broadcasts over
/// heads and queries.
extension Attention: ONNXExportable {
  var minimumONNXOpset: Int { 23 }

  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    var ins = Array(export.inputs.prefix(3))
    if export.inputs.count > 3 {
      let mask = export.emit("Cast", [export.inputs[3]], [Attr.int("to", 9)], final: false)
      ins.append(
        export.emit("Unsqueeze", [mask, export.builder.int64s("\(export.name).mask_axes", [1, 2])], final: false))
    }
    var attributes = [
      Attr.int("is_causal", geometry.causal ? 1 : 0), Attr.int("q_num_heads", geometry.heads),
      Attr.int("kv_num_heads", geometry.kvHeads),
    ]
    if let scale = geometry.scale { attributes.append(Attr.float("scale", scale)) }
    export.emit("Attention", ins, attributes)
  }
}

/// logits = x · tableᵀ: MatMul by the transposed table.
extension TiedHead: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    let transposed = export.emit("Transpose", [export.inputs[1]], [Attr.ints("perm", [1, 0])], final: false)
    export.emit("MatMul", [export.inputs[0], transposed])
  }
}

/// Σ_t x[b, t]·m[b, t] / max(Σ_t m[b, t], 1e-9): the mask unsqueezed to [batch, sequence, 1],
/// ReduceSum over the sequence (axes as an input: opset 13).
extension MeanPooling: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    let b = export.builder
    let name = export.name
    let mask = export.emit("Unsqueeze", [export.inputs[1], b.int64s("\(name).last", [-1])], final: false)
    let weighted = export.emit("Mul", [export.inputs[0], mask], final: false)
    let sequence = b.int64s("\(name).sequence", [1])
    let total = export.emit("ReduceSum", [weighted, sequence], [Attr.int("keepdims", 0)], final: false)
    let count = export.emit("ReduceSum", [mask, sequence], [Attr.int("keepdims", 0)], final: false)
    let floor = export.emit("Max", [count, b.floats("\(name).floor", Tensor(1e-9))], final: false)
    export.emit("Div", [total, floor])
  }
}

/// x / max(‖x‖₂, 1e-12) over the last axis.
extension L2Normalization: ONNXExportable {
  func writeONNX(_ export: LayerExport) throws(ONNXError) {
    let b = export.builder
    let x = export.inputs[0]
    let norm = export.emit(
      "ReduceL2", [x, b.int64s("\(export.name).last", [-1])], [Attr.int("keepdims", 1)], final: false)
    let floor = export.emit("Max", [norm, b.floats("\(export.name).floor", Tensor(1e-12))], final: false)
    export.emit("Div", [x, floor])
  }
}
