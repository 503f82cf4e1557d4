import LatheTensor

// `ONNXAttention` as a model file's layer spec and back, and its shape rule (see
// ONNXShapeRules.swift for why every imported layer has one).

extension ONNXAttention {
  public var spec: LayerSpec {
    let s = settings
    var attributes: [String: AttributeValue] = [
      "output": .string(output.rawValue), "q_num_heads": .int(s.qHeads), "kv_num_heads": .int(s.kvHeads),
      "is_causal": .bool(s.isCausal), "softcap": .float(s.softcap), "qk_matmul_output_mode": .int(s.qkMode),
      "left_window_size": .int(s.leftWindow), "right_window_size": .int(s.rightWindow), "nonpad": .ints(s.nonpad),
      "mask": .bool(s.hasMask), "past": .bool(s.hasPast), "boolean_mask": .bool(s.booleanMask),
    ]
    // Absent means 1/√head_size, which depends on the input, so it is not written as a number.
    if let scale = s.scale { attributes["scale"] = .float(scale) }
    return LayerSpec(op: "onnx.Attention", attributes: attributes)
  }

  /// The layer a spec describes, or nil when its op is another (`ONNXLayers` asks).
  public convenience init?(spec: LayerSpec) throws(ModelError) {
    guard spec.op == "onnx.Attention" else { return nil }
    func int(_ key: String, _ fallback: Int) throws(ModelError) -> Int {
      spec.attributes[key] == nil ? fallback : try spec.int(key)
    }
    guard let output = Output(rawValue: try spec.string("output", default: "y")) else {
      throw .badAttribute(op: spec.op, key: "output", expected: "y, present_key, present_value or qk_matmul_output")
    }
    var s = Settings()
    (s.qHeads, s.kvHeads) = (try int("q_num_heads", 0), try int("kv_num_heads", 0))
    s.isCausal = try spec.bool("is_causal", default: false)
    s.scale = spec.attributes["scale"] == nil ? nil : try spec.float("scale", default: 1)
    s.softcap = try spec.float("softcap", default: 0)
    s.qkMode = try int("qk_matmul_output_mode", 0)
    (s.leftWindow, s.rightWindow) = (try int("left_window_size", -1), try int("right_window_size", -1))
    s.nonpad = try spec.ints("nonpad", default: [])
    (s.hasMask, s.hasPast) = (try spec.bool("mask", default: false), try spec.bool("past", default: false))
    s.booleanMask = try spec.bool("boolean_mask", default: false)
    guard s.qHeads >= 0, s.kvHeads >= 0, (0...3).contains(s.qkMode), s.leftWindow >= -1, s.rightWindow >= -1,
      s.softcap >= 0
    else {
      throw .badAttribute(
        op: spec.op, key: "q_num_heads/kv_num_heads/qk_matmul_output_mode/softcap/window",
        expected: "heads >= 0, a mode 0 to 3, softcap >= 0, windows >= -1")
    }
    self.init(output, s)
  }
}

extension ONNXAttention: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let s = settings
    try ShapeRules.inputs(inputs, count: 3 + (s.hasMask ? 1 : 0) + (s.hasPast ? 2 : 0))
    var (q, k, v) = (inputs[0], inputs[1], inputs[2])
    guard q.count == k.count, q.count == v.count, q.count == 3 || q.count == 4 else {
      throw ShapeError("Q \(q), K \(k) and V \(v) should all be 3-D or all 4-D")
    }
    let threeD = q.count == 3
    if threeD {
      func split(_ x: [Int], _ heads: Int, _ what: String) throws(ShapeError) -> [Int] {
        guard heads > 0, x[2] % heads == 0 else {
          throw ShapeError("\(what) \(x): its hidden size is not a multiple of \(heads) heads")
        }
        return [x[0], heads, x[1], x[2] / heads]
      }
      (q, k, v) = (try split(q, s.qHeads, "Q"), try split(k, s.kvHeads, "K"), try split(v, s.kvHeads, "V"))
    }
    guard q[0] == k[0], q[0] == v[0], k[1] == v[1], k[2] == v[2], q[3] == k[3] else {
      throw ShapeError(
        "Q \(q), K \(k) and V \(v) (as [batch, heads, seq, head_size]) disagree: batch, key/value heads and length, or head size"
      )
    }
    guard k[1] > 0, q[1] % k[1] == 0 else {
      throw ShapeError("\(q[1]) query heads are not a multiple of \(k[1]) key/value heads")
    }
    var keys = k[2]
    if s.hasPast {
      let (pk, pv) = (inputs[s.hasMask ? 4 : 3], inputs[s.hasMask ? 5 : 4])
      guard pk.count == 4, pv.count == 4, pk[0] == k[0], pk[1] == k[1], pk[3] == k[3], pv[0] == v[0], pv[1] == v[1],
        pv[3] == v[3], pk[2] == pv[2]
      else { throw ShapeError("past_key \(pk) and past_value \(pv) do not continue K \(k) and V \(v)") }
      keys += pk[2]
    }
    if s.hasMask {
      let m = inputs[3]
      let target = [q[0], q[1], q[2], keys]
      var widened = m
      if let last = m.indices.last, m[last] <= keys { widened[last] = keys }
      guard m.count >= 1, m.count <= 4, broadcastShape(widened, target) == target else {
        throw ShapeError("attn_mask \(m) does not broadcast to the scores [batch, heads, q_seq, kv_seq] \(target)")
      }
    }
    guard s.nonpad.isEmpty || s.nonpad.count == q[0] else {
      throw ShapeError("nonpad_kv_seqlen holds \(s.nonpad.count) lengths for a batch of \(q[0])")
    }
    switch output {
    case .y: return threeD ? [q[0], q[2], q[1] * v[3]] : [q[0], q[1], q[2], v[3]]
    case .presentKey: return [k[0], k[1], keys, k[3]]
    case .presentValue: return [v[0], v[1], keys, v[3]]
    case .qk: return [q[0], q[1], q[2], keys]
    }
  }
}
