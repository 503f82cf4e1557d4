import Foundation
import LatheTensor

/// ONNX's RotaryEmbedding (opset 23): the first `rotaryDim` features of each head rotated in
/// pairs (halves, or neighbours when interleaved) by the cos/sin caches, the rest passed
/// through. Inputs are x, cos_cache, sin_cache; the position ids are integers, so they are
/// read at load (a run-time position input is refused by the converter). The output is linear in
/// x and in each cache, which the gradient follows.
public final class ONNXRotaryEmbedding: Layer {
  public let interleaved: Bool
  /// 0 means the whole head.
  public let rotaryDim: Int
  /// Needed for a 3-D input [batch, sequence, hidden]; a 4-D one is [batch, heads, sequence, head].
  public let heads: Int
  /// [batch × sequence] rows of the caches, or nil when the caches are [batch, sequence, half].
  public let positions: [Int]?

  public init(interleaved: Bool, rotaryDim: Int, heads: Int, positions: [Int]?) {
    (self.interleaved, self.rotaryDim, self.heads, self.positions) = (interleaved, rotaryDim, heads, positions)
  }

  public func copy() -> Layer {
    ONNXRotaryEmbedding(interleaved: interleaved, rotaryDim: rotaryDim, heads: heads, positions: positions)
  }

  /// (batch, sequence, heads, head size) of an input shape, or nil when it does not fit.
  func layout(_ shape: [Int]) -> (b: Int, s: Int, h: Int, d: Int)? {
    if shape.count == 4 { return (shape[0], shape[2], shape[1], shape[3]) }
    guard shape.count == 3, heads > 0, shape[2] % heads == 0 else { return nil }
    return (shape[0], shape[1], heads, shape[2] / heads)
  }

  /// Calls `body` for each rotated pair: the flat indices of x1 and x2 and of the cache entry.
  func pairs(_ shape: [Int], _ body: (Int, Int, Int) -> Void) {
    guard let (b, s, h, d) = layout(shape) else { return }
    let rotary = rotaryDim == 0 ? d : rotaryDim
    let half = rotary / 2
    for bi in 0..<b {
      for si in 0..<s {
        let row = positions.map { $0[bi * s + si] } ?? (bi * s + si)
        for hi in 0..<h {
          // The head's first feature, in x's own layout.
          let base = shape.count == 4 ? ((bi * h + hi) * s + si) * d : ((bi * s + si) * h + hi) * d
          for j in 0..<half {
            let (i1, i2) = interleaved ? (2 * j, 2 * j + 1) : (j, j + half)
            body(base + i1, base + i2, row * half + j)
          }
        }
      }
    }
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let (x, cos, sin) = (inputs[0], inputs[1], inputs[2])
    let (v, c, sn) = (x.value.contiguous().scalars, cos.value.contiguous().scalars, sin.value.contiguous().scalars)
    var y = v
    pairs(x.shape) { a, b, k in
      y[a] = c[k] * v[a] - sn[k] * v[b]
      y[b] = sn[k] * v[a] + c[k] * v[b]
    }
    let (shape, cosShape, sinShape) = (x.shape, cos.shape, sin.shape)
    return Variable(Tensor(shape: shape, scalars: y), parents: [x, cos, sin]) { [self] g in
      let gs = g.contiguous().scalars
      var dx = gs
      var dc = [Float](repeating: 0, count: c.count)
      var ds = [Float](repeating: 0, count: sn.count)
      pairs(shape) { a, b, k in
        dx[a] = c[k] * gs[a] + sn[k] * gs[b]
        dx[b] = -sn[k] * gs[a] + c[k] * gs[b]
        dc[k] += v[a] * gs[a] + v[b] * gs[b]
        ds[k] += -v[b] * gs[a] + v[a] * gs[b]
      }
      return [
        Tensor(shape: shape, scalars: dx), Tensor(shape: cosShape, scalars: dc), Tensor(shape: sinShape, scalars: ds),
      ]
    }
  }

  public var spec: LayerSpec {
    var attributes: [String: AttributeValue] = [
      "interleaved": .bool(interleaved), "rotary_dim": .int(rotaryDim), "heads": .int(heads),
    ]
    if let positions { attributes["positions"] = .ints(positions) }
    return LayerSpec(op: "onnx.RotaryEmbedding", attributes: attributes)
  }
}

extension ONNXRotaryEmbedding: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    guard inputs.count == 3, let (b, s, _, d) = layout(inputs[0]) else {
      throw ShapeError("RotaryEmbedding takes x (3-D with heads, or 4-D) and two caches, not \(inputs)")
    }
    let rotary = rotaryDim == 0 ? d : rotaryDim
    guard rotary <= d, rotary % 2 == 0 else { throw ShapeError("rotary dimension \(rotary) does not fit head \(d)") }
    let rows = positions.map { ($0.max() ?? -1) + 1 } ?? b * s
    for cache in inputs[1...] {
      let count = cache.reduce(1, *)
      guard count % max(rotary / 2, 1) == 0, count / max(rotary / 2, 1) >= rows, positions?.count ?? b * s == b * s
      else { throw ShapeError("cache \(cache) does not fit \(b)×\(s) positions of \(rotary / 2)") }
    }
    return inputs[0]
  }
}
