import CKernels
import Foundation

/// How one attention product is laid out: heads, grouped-query sharing, masking and scale.
public struct AttentionGeometry: Sendable, Equatable {
  /// Query heads: the last axis of the queries is `heads · headSize`.
  public var heads: Int
  /// Key and value heads (grouped-query attention when fewer than `heads`; each serves
  /// heads / kvHeads consecutive query heads, as Llama and ONNX's Attention group them).
  public var kvHeads: Int
  /// A query at position i sees keys up to i + (keys − queries): the causal mask of a decoder,
  /// offset for queries that continue a cached prefix.
  public var causal: Bool
  /// Scores are q·k · scale; nil is 1/√headSize.
  public var scale: Float?

  public init(heads: Int, kvHeads: Int? = nil, causal: Bool, scale: Float? = nil) {
    self.heads = heads
    self.kvHeads = kvHeads ?? heads
    self.causal = causal
    self.scale = scale
  }
}

extension Variable {
  /// Multi-head scaled dot-product attention, softmax(Q·Kᵀ·scale + mask)·V, on the
  /// [batch, sequence, heads · headSize] layout that projections produce, so no head is copied
  /// out: each head's product is one GEMM over a strided view. `keyMask` [batch, keys] holds 1
  /// for keys a query may see and 0 for padding (BERT's attention_mask). A query that can see
  /// no key at all returns zeros. Gradients flow to the queries, keys and values.
  public static func attention(
    query: Variable, key: Variable, value: Variable, geometry: AttentionGeometry, keyMask: Tensor<Float>? = nil
  ) -> Variable {
    let q = query.value.contiguous()
    let k = key.value.contiguous()
    let v = value.value.contiguous()
    let layout = AttentionLayout(q.shape, k.shape, geometry)
    let mask = keyMask?.contiguous()
    let (probabilities, output) = layout.forward(q, k, v, mask: mask)
    return Variable(output, parents: [query, key, value]) { g in
      let grads = layout.backward(g.contiguous(), q, k, v, probabilities: probabilities)
      return [
        query.requiresGrad ? grads.query : nil, key.requiresGrad ? grads.key : nil,
        value.requiresGrad ? grads.value : nil,
      ]
    }
  }
}

/// Sizes and strides of one attention call, and its forward and backward passes.
struct AttentionLayout {
  let batch: Int
  let queries: Int
  let keys: Int
  let heads: Int
  let kvHeads: Int
  let headSize: Int
  let causal: Bool
  let scale: Float

  init(_ q: [Int], _ k: [Int], _ g: AttentionGeometry) {
    precondition(q.count == 3 && k.count == 3 && q[0] == k[0], "attention: queries \(q), keys \(k)")
    precondition(
      g.heads > 0 && g.kvHeads > 0 && g.heads % g.kvHeads == 0, "attention: \(g.heads) heads, \(g.kvHeads) kv")
    precondition(q[2] % g.heads == 0, "attention: width \(q[2]) is not \(g.heads) heads")
    (batch, queries, keys, heads, kvHeads, causal) = (q[0], q[1], k[1], g.heads, g.kvHeads, g.causal)
    headSize = q[2] / g.heads
    precondition(k[2] == kvHeads * headSize, "attention: keys \(k) for \(kvHeads) heads of \(headSize)")
    scale = g.scale ?? 1 / Float(headSize).squareRoot()
  }

  var queryWidth: Int { heads * headSize }
  var keyWidth: Int { kvHeads * headSize }
  /// The key/value head that query head h reads.
  func kvHead(_ h: Int) -> Int { h / (heads / kvHeads) }
  /// The last key query i may see, plus one.
  func visibleKeys(_ i: Int) -> Int { causal ? min(keys, i + keys - queries + 1) : keys }

  /// Small products run one head per worker; larger ones let the GEMM split itself instead.
  func workers(_ tasks: Int) -> Int {
    queries * keys * headSize < Parallel.smallGEMMWork ? max(1, min(Parallel.coreCount, tasks)) : 1
  }

  func forward(_ q: Tensor<Float>, _ k: Tensor<Float>, _ v: Tensor<Float>, mask: Tensor<Float>?) -> (
    Tensor<Float>, Tensor<Float>
  ) {
    let tasks = batch * heads
    let probabilities = Tensor<Float>(shape: [batch, heads, queries, keys]) { _ in }
    let output = Tensor<Float>(shape: [batch, queries, queryWidth]) { out in
      q.withUnsafeBufferPointer { qp in
        k.withUnsafeBufferPointer { kp in
          v.withUnsafeBufferPointer { vp in
            withOptionalPointer(mask) { mp in
              let workers = workers(tasks)
              Parallel.forEach(workers) { worker in
                for task in Swift.stride(from: worker, to: tasks, by: workers) {
                  let (b, h) = (task / heads, task % heads)
                  let p = probabilities.storage.pointer + task * queries * keys
                  let qh = qp.baseAddress! + b * queries * queryWidth + h * headSize
                  let kh = kp.baseAddress! + b * keys * keyWidth + kvHead(h) * headSize
                  let vh = vp.baseAddress! + b * keys * keyWidth + kvHead(h) * headSize
                  // Scores [queries, keys] = Q_h · K_hᵀ · scale.
                  lk_sgemm(
                    0, 1, Int32(queries), Int32(keys), Int32(headSize), scale, qh, Int32(queryWidth), kh,
                    Int32(keyWidth), 0, p, Int32(keys))
                  softmaxRows(p, mask: mp.map { $0 + b * keys })
                  lk_sgemm(
                    0, 0, Int32(queries), Int32(headSize), Int32(keys), 1, p, Int32(keys), vh, Int32(keyWidth), 0,
                    out.baseAddress! + b * queries * queryWidth + h * headSize, Int32(queryWidth))
                }
              }
            }
          }
        }
      }
    }
    return (probabilities, output)
  }

  /// Masks and normalises each query's row of scores in place. Masked keys get probability 0
  /// (not a large negative score: a row with no visible key would otherwise spread evenly).
  private func softmaxRows(_ p: UnsafeMutablePointer<Float>, mask: UnsafePointer<Float>?) {
    for i in 0..<queries {
      let row = p + i * keys
      let visible = visibleKeys(i)
      var largest = -Float.infinity
      for j in 0..<visible where mask.map({ $0[j] != 0 }) ?? true { largest = max(largest, row[j]) }
      guard largest > -Float.infinity else {
        row.update(repeating: 0, count: keys)
        continue
      }
      var total: Float = 0
      for j in 0..<keys {
        let seen = j < visible && (mask.map { $0[j] != 0 } ?? true)
        row[j] = seen ? Foundation.exp(row[j] - largest) : 0
        total += row[j]
      }
      let inverse = 1 / total
      for j in 0..<keys { row[j] *= inverse }
    }
  }

  struct Gradients {
    var query: Tensor<Float>
    var key: Tensor<Float>
    var value: Tensor<Float>
  }

  /// dV = Pᵀ·dO, dP = dO·Vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P))·scale, dQ = dS·K, dK = dSᵀ·Q.
  /// Batch entries run in parallel: the query heads that share a key head accumulate into it,
  /// so heads of one entry stay on one worker.
  func backward(
    _ g: Tensor<Float>, _ q: Tensor<Float>, _ k: Tensor<Float>, _ v: Tensor<Float>, probabilities: Tensor<Float>
  ) -> Gradients {
    var dq = Tensor<Float>.zeros(q.shape)
    var dk = Tensor<Float>.zeros(k.shape)
    var dv = Tensor<Float>.zeros(v.shape)
    let workers = workers(batch)
    let scratchCount = queries * keys
    g.withUnsafeBufferPointer { gp in
      q.withUnsafeBufferPointer { qp in
        k.withUnsafeBufferPointer { kp in
          v.withUnsafeBufferPointer { vp in
            probabilities.withUnsafeBufferPointer { pp in
              dq.withUnsafeMutableBufferPointer { dqp in
                dk.withUnsafeMutableBufferPointer { dkp in
                  dv.withUnsafeMutableBufferPointer { dvp in
                    Parallel.forEach(workers) { worker in
                      var ds = [Float](repeating: 0, count: scratchCount)
                      for b in Swift.stride(from: worker, to: batch, by: workers) {
                        for h in 0..<heads {
                          let p = pp.baseAddress! + (b * heads + h) * scratchCount
                          let qOffset = b * queries * queryWidth + h * headSize
                          let kvOffset = b * keys * keyWidth + kvHead(h) * headSize
                          let go = gp.baseAddress! + qOffset
                          ds.withUnsafeMutableBufferPointer { dsp in
                            let s = dsp.baseAddress!
                            lk_sgemm(
                              1, 0, Int32(keys), Int32(headSize), Int32(queries), 1, p, Int32(keys), go,
                              Int32(queryWidth), 1, dvp.baseAddress! + kvOffset, Int32(keyWidth))
                            lk_sgemm(
                              0, 1, Int32(queries), Int32(keys), Int32(headSize), 1, go, Int32(queryWidth),
                              vp.baseAddress! + kvOffset, Int32(keyWidth), 0, s, Int32(keys))
                            for i in 0..<queries {
                              var dot: Float = 0
                              for j in 0..<keys { dot += s[i * keys + j] * p[i * keys + j] }
                              for j in 0..<keys { s[i * keys + j] = p[i * keys + j] * (s[i * keys + j] - dot) * scale }
                            }
                            lk_sgemm(
                              0, 0, Int32(queries), Int32(headSize), Int32(keys), 1, s, Int32(keys),
                              kp.baseAddress! + kvOffset, Int32(keyWidth), 0, dqp.baseAddress! + qOffset,
                              Int32(queryWidth))
                            lk_sgemm(
                              1, 0, Int32(keys), Int32(headSize), Int32(queries), 1, s, Int32(keys),
                              qp.baseAddress! + qOffset, Int32(queryWidth), 1, dkp.baseAddress! + kvOffset,
                              Int32(keyWidth))
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
    return Gradients(query: dq, key: dk, value: dv)
  }
}
