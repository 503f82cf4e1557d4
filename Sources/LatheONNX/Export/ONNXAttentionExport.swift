import LatheTensor

/// Attention goes back out as one Attention node whose output the layer stands for, picked by
/// an Identity (as training-mode BatchNormalization is). A boolean mask, held as 0/1 floats,
/// is cast back to bool.
extension ONNXAttention: ONNXExportable {
  /// Attention arrives in opset 23; nonpad_kv_seqlen in 24; the sliding window in 25.
  var minimumONNXOpset: Int {
    let s = settings
    if s.leftWindow >= 0 || s.rightWindow >= 0 { return 25 }
    return s.nonpad.isEmpty ? 23 : 24
  }

  func writeONNX(_ export: LayerExport) throws(ONNXError) { try export.attention(self) }
}

extension LayerExport {
  fileprivate func attention(_ l: ONNXAttention) throws(ONNXError) {
    let s = l.settings
    guard builder.opset >= l.minimumONNXOpset else { throw fail("Attention needs opset \(l.minimumONNXOpset)") }
    // ONNX's positions: Q, K, V, attn_mask, past_key, past_value, nonpad_kv_seqlen; "" for absent.
    var ins = Array(inputs.prefix(3))
    // A boolean mask is held as 0/1 floats: cast back to bool (9), which ONNX reads as attend/block.
    ins.append(
      s.hasMask ? (s.booleanMask ? emit("Cast", [inputs[3]], [Attr.int("to", 9)], final: false) : inputs[3]) : "")
    ins += s.hasPast ? Array(inputs.suffix(2)) : ["", ""]
    if !s.nonpad.isEmpty { ins.append(builder.int64s("\(name).nonpad_kv_seqlen", s.nonpad)) }
    while ins.last == "" { ins.removeLast() }
    var attributes = [Attr.int("is_causal", s.isCausal ? 1 : 0)]
    if s.qHeads > 0 { attributes += [Attr.int("q_num_heads", s.qHeads), Attr.int("kv_num_heads", s.kvHeads)] }
    if let scale = s.scale { attributes.append(Attr.float("scale", scale)) }
    if s.softcap > 0 { attributes.append(Attr.float("softcap", s.softcap)) }
    if s.qkMode != 0 { attributes.append(Attr.int("qk_matmul_output_mode", s.qkMode)) }
    if s.leftWindow >= 0 { attributes.append(Attr.int("left_window_size", s.leftWindow)) }
    if s.rightWindow >= 0 { attributes.append(Attr.int("right_window_size", s.rightWindow)) }
    let chosen = ONNXAttention.Output.allCases.firstIndex(of: l.output)!
    let y = emit("Attention", ins, attributes, final: false)
    let outputs = [y] + (1...3).map { $0 <= chosen ? "\(y)_\(ONNXAttention.Output.allCases[$0].rawValue)" : "" }
    builder.nodes[builder.nodes.count - 1].output = Array(outputs.prefix(chosen + 1))
    emit("Identity", [outputs[chosen]])
  }
}
