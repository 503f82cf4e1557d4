import Foundation
import LatheTensor

/// ONNX's Attention (opset 23, with opset 24's nonpad_kv_seqlen and opset 25's sliding window):
/// softmax(Q·Kᵀ·scale + bias)·V over 4-D [batch, heads, seq, head_size] inputs, or 3-D
/// [batch, seq, heads·head_size] ones split into heads. The bias gathers the attention mask
/// (padded with −∞ up to the keys' length), the causal frontier, the window and the padding of
/// a static cache. Past keys and values are prepended along the sequence; fewer key/value heads
/// than query heads are repeated (grouped-query attention).
///
/// The operator has four outputs and a layer has one, so each output used is its own layer, as
/// `ONNXBatchNormTraining` does; they share inputs and settings and differ in `output`. Built
/// from the engine's differentiable ops (the matrix products run the GEMM kernels), so imported
/// attention trains.
public final class ONNXAttention: Layer {
  public enum Output: String, Sendable, CaseIterable {
    case y
    case presentKey = "present_key"
    case presentValue = "present_value"
    case qk = "qk_matmul_output"
  }

  public struct Settings: Equatable, Sendable {
    /// Heads for 3-D inputs; 0 for 4-D ones, whose second axis holds them.
    public var qHeads = 0
    public var kvHeads = 0
    public var isCausal = false
    /// nil: 1/√head_size.
    public var scale: Float?
    /// 0: none; otherwise scores become softcap · tanh(scores / softcap) before the bias.
    public var softcap: Float = 0
    /// What `qk_matmul_output` holds, as ONNX's reference computes it: 0 and 1 the (softcapped)
    /// scores, 2 the scores with the bias added, 3 the probabilities after softmax.
    public var qkMode = 0
    /// −1: unbounded on that side.
    public var leftWindow = -1
    public var rightWindow = -1
    /// Valid keys per batch entry of a static cache (opset 24's nonpad_kv_seqlen); empty: none.
    public var nonpad: [Int] = []
    /// Whether the layer's inputs hold an additive mask after Q, K, V, and past key and value after that.
    public var hasMask = false
    public var hasPast = false
    /// The mask holds 1 (attend) and 0 (blocked) from an ONNX bool mask, turned into 0 and −∞
    /// here: a model file refuses infinite tensors, so the constant keeps its 0/1 form.
    public var booleanMask = false

    public init() {}
  }

  public let output: Output
  public let settings: Settings

  public init(_ output: Output, _ settings: Settings) {
    self.output = output
    self.settings = settings
  }

  public func copy() -> Layer { ONNXAttention(output, settings) }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let s = settings
    var (q, k, v) = (inputs[0], inputs[1], inputs[2])
    var mask = s.hasMask ? inputs[3] : nil
    if s.booleanMask, let m = mask { mask = Variable(m.value.mapFloat { $0 != 0 ? 0 : -.infinity }) }
    let threeD = q.shape.count == 3
    if threeD {
      (q, k, v) = (Self.splitHeads(q, s.qHeads), Self.splitHeads(k, s.kvHeads), Self.splitHeads(v, s.kvHeads))
    }
    var pastLength = 0
    if s.hasPast {
      let first = s.hasMask ? 4 : 3
      pastLength = inputs[first].shape[2]
      k = Variable.concatenate([inputs[first], k], axis: 2)
      v = Variable.concatenate([inputs[first + 1], v], axis: 2)
    }
    if output == .presentKey { return k }
    if output == .presentValue { return v }
    let (batch, heads, queries, headSize) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
    let keys = k.shape[2]
    if k.shape[1] != heads {
      (k, v) = (Self.repeatHeads(k, heads / k.shape[1]), Self.repeatHeads(v, heads / v.shape[1]))
    }
    // One scale on Q rather than √scale on each side as the reference does: equal up to rounding,
    // and it scales [queries, head_size] values rather than a score per key.
    var scores = ONNXOp.matmul(q * (s.scale ?? 1 / Float(headSize).squareRoot()), k.transposed)
    if s.softcap > 0 { scores = (scores * (1 / s.softcap)).tanh() * s.softcap }
    // The softcap comes before the bias, so that −∞ stays −∞ and masked keys get no weight.
    let bias = Self.bias(mask, s, batch: batch, queries: queries, keys: keys, pastLength: pastLength)
    let logits = bias.map { scores + $0 } ?? scores
    if output == .qk && s.qkMode < 2 { return scores }
    if output == .qk && s.qkMode == 2 { return logits }
    let probabilities = Self.softmax(logits, blocked: bias?.value)
    if output == .qk { return probabilities }
    let y = ONNXOp.matmul(probabilities, v)
    guard threeD else { return y }
    return y.permuted([0, 2, 1, 3]).reshaped([batch, queries, heads * y.shape[3]])
  }

  /// [batch, seq, heads·size] -> [batch, heads, seq, size].
  static func splitHeads(_ x: Variable, _ heads: Int) -> Variable {
    x.reshaped([x.shape[0], x.shape[1], heads, x.shape[2] / heads]).permuted([0, 2, 1, 3])
  }

  /// Each key/value head `times` over, next to itself ([h0, h0, h1, h1]), as the reference repeats.
  static func repeatHeads(_ x: Variable, _ times: Int) -> Variable {
    guard times > 1 else { return x }
    let (b, h, n, d) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let out = [b, h * times, n, d]
    let map = IndexMap.build(out) { c in ((c[0] * h + c[1] / times) * n + c[2]) * d + c[3] }
    return x.gathered(map, shape: out)
  }

  /// The additive bias: the mask (its missing keys −∞) plus the structural part (causal frontier,
  /// window, static-cache padding); nil when there is neither.
  static func bias(
    _ mask: Variable?, _ s: Settings, batch: Int, queries: Int, keys: Int, pastLength: Int
  ) -> Variable? {
    var padded = mask
    if let mask, mask.shape.last! < keys {
      var shape = mask.shape
      let width = shape[shape.count - 1]
      shape[shape.count - 1] = keys
      let map = IndexMap.build(shape) { c in
        c.last! < width ? zip(c, Tensor<Float>.rowMajorStrides(mask.shape)).reduce(0) { $0 + $1.0 * $1.1 } : -1
      }
      padded = mask.gathered(map, shape: shape, fill: -.infinity)
    }
    let windowed = s.leftWindow >= 0 || s.rightWindow >= 0
    guard s.isCausal || windowed || !s.nonpad.isEmpty else { return padded }
    // A query at index i sits at i + offset among the keys: after the past, or at the end of
    // each batch entry's valid keys in a static cache. Not clamped at 0: a negative offset
    // masks whole rows, which the softmax then zeroes, as the reference does.
    let entries = s.nonpad.isEmpty ? 1 : batch
    let structural = Tensor<Float>(shape: s.nonpad.isEmpty ? [queries, keys] : [batch, 1, queries, keys]) { out in
      for b in 0..<entries {
        let offset = s.nonpad.isEmpty ? pastLength : s.nonpad[b] - queries
        for i in 0..<queries {
          for j in 0..<keys {
            let diff = i + offset - j
            var allowed = !s.isCausal || diff >= 0
            if s.leftWindow >= 0 { allowed = allowed && diff <= s.leftWindow }
            if s.rightWindow >= 0 { allowed = allowed && -diff <= s.rightWindow }
            if !s.nonpad.isEmpty { allowed = allowed && j < s.nonpad[b] }
            out[(b * queries + i) * keys + j] = allowed ? 0 : -.infinity
          }
        }
      }
    }
    return padded.map { $0 + Variable(structural) } ?? Variable(structural)
  }

  /// Softmax over the keys that gives a row whose bias is −∞ throughout all zeros (no key may be
  /// attended; the engine's softmax would give NaN), decided on the bias, not the scores, so a
  /// NaN score cannot undo the masking. An all −∞ row of scores alone also gives zeros.
  static func softmax(_ x: Variable, blocked bias: Tensor<Float>?) -> Variable {
    let width = x.shape.last!
    let rows = width == 0 ? 0 : x.value.count / width
    var blocked = [Bool](repeating: false, count: rows)
    if let bias {
      let full = bias.expanded(to: x.shape).contiguous().scalars
      for r in 0..<rows { blocked[r] = !full[(r * width)..<((r + 1) * width)].contains { $0 != -.infinity } }
    }
    let xs = x.value.contiguous()
    let y = xs.withUnsafeBufferPointer { v in
      Tensor<Float>(shape: x.shape) { out in
        for r in 0..<rows {
          let row = r * width
          var peak = -Float.infinity
          for j in 0..<width { peak = Swift.max(peak, v[row + j]) }
          if peak == -.infinity { peak = 0 }
          var total: Float = 0
          for j in 0..<width {
            out[row + j] = Foundation.exp(v[row + j] - peak)
            total += out[row + j]
          }
          let inverse = blocked[r] ? 0 : 1 / (total == 0 ? 1 : total)
          for j in 0..<width { out[row + j] = blocked[r] ? 0 : out[row + j] * inverse }
        }
      }
    }
    let last = x.shape.count - 1
    return Variable(y, parents: [x]) { g in
      // dx = y · (g − Σ g·y); a zeroed row passes no gradient.
      [y * (g - (g * y).sum(axes: [last], keepingDimensions: true))]
    }
  }
}
