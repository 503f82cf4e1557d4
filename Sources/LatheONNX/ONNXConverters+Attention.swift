import Foundation
import LatheTensor

/// ONNX's Attention onto `ONNXAttention`, one layer per output the graph uses.
extension ONNXConverters {
  static func attention(_ n: NodeConversion) throws(NodeError) {
    let a = n.attributes
    let (q, k, v) = (try n.required(0, "Q"), try n.required(1, "K"), try n.required(2, "V"))
    let rank = n.shape(q).count
    guard rank == 3 || rank == 4, n.shape(k).count == rank, n.shape(v).count == rank else {
      throw NodeError("Q \(n.shape(q)), K \(n.shape(k)) and V \(n.shape(v)) should all be 3-D or all 4-D")
    }
    var s = ONNXAttention.Settings()
    if rank == 3 {
      (s.qHeads, s.kvHeads) = (try a.int("q_num_heads", 0), try a.int("kv_num_heads", 0))
      guard s.qHeads > 0, s.kvHeads > 0 else {
        throw NodeError("3-D inputs need positive q_num_heads and kv_num_heads, not \(s.qHeads) and \(s.kvHeads)")
      }
    }
    let causal = try a.int("is_causal", 0)
    guard causal == 0 || causal == 1 else { throw NodeError("is_causal should be 0 or 1, not \(causal)") }
    s.isCausal = causal == 1
    if a.has("scale") {
      let scale = try a.float("scale", 1)
      guard scale.isFinite else { throw NodeError("scale \(scale) is not finite") }
      s.scale = scale
    }
    s.softcap = try a.float("softcap", 0)
    guard s.softcap >= 0, s.softcap.isFinite else { throw NodeError("softcap \(s.softcap) should be finite and >= 0") }
    s.qkMode = try a.int("qk_matmul_output_mode", 0)
    guard (0...3).contains(s.qkMode) else {
      throw NodeError("qk_matmul_output_mode \(s.qkMode) should be 0, 1, 2 or 3")
    }
    // Lathe computes the softmax in fp32 whatever the precision asked: float16, bfloat16 and
    // double (10, 16, 11) would each round it differently, but only by their own rounding.
    let precision = try a.int("softmax_precision", 1)
    guard [1, 10, 11, 16].contains(precision) else {
      throw NodeError("softmax_precision \(precision) is not float, float16, bfloat16 or double (1, 10, 16, 11)")
    }
    (s.leftWindow, s.rightWindow) = (try a.int("left_window_size", -1), try a.int("right_window_size", -1))
    guard s.leftWindow >= -1, s.rightWindow >= -1 else {
      throw NodeError("left_window_size \(s.leftWindow) and right_window_size \(s.rightWindow) should be -1 or >= 0")
    }
    var inputs = [q, k, v]
    var hints = [n.hint(0), n.hint(1), n.hint(2)]
    if let mask = try n.input(3) {
      s.hasMask = true
      hints.append(n.hint(3))
      // A boolean mask says which keys to attend: true adds 0, false −∞. A constant one or one
      // computed at run time travels as 0/1 floats; the element type tells it from an additive mask.
      s.booleanMask = n.importer.elementType(mask) == .bool
      if let c = mask.constant, !c.isFloatingPoint {
        inputs.append(.constant(ONNXConstant(c.floats)))
      } else {
        inputs.append(mask)
      }
    }
    let (pastKey, pastValue) = (try n.input(4), try n.input(5))
    guard (pastKey == nil) == (pastValue == nil) else { throw NodeError("past_key and past_value come together") }
    if let pastKey, let pastValue {
      s.hasPast = true
      inputs += [pastKey, pastValue]
      hints += [n.hint(4), n.hint(5)]
    }
    if let lengths = try n.constant(6, "nonpad_kv_seqlen") {
      guard !s.hasPast else { throw NodeError("nonpad_kv_seqlen cannot be combined with past_key and past_value") }
      s.nonpad = lengths.ints
    }
    for (i, output) in ONNXAttention.Output.allCases.enumerated() where i < n.node.output.count {
      guard !n.node.output[i].isEmpty else { continue }
      let layer = ONNXAttention(output, s)
      n.define(i, try n.emit(layer, inputs, hints: hints, suffix: i == 0 ? "" : "_\(output.rawValue)"))
    }
  }
}
