import LatheTensor

/// SparseGPT (Frantar, Alistarh, "SparseGPT: Massive Language Models Can Be Accurately Pruned
/// in One-Shot", ICML 2023): prunes a Linear weight column by column like GPTQ quantizes it,
/// each removed weight's error spread over the columns not yet visited through the inverse
/// Hessian of the layer's inputs (the OBS update), so the kept weights change to make up for
/// the removed ones.
///
/// Columns go in blocks of 128 (a multiple of M for N:M). Unstructured: at the start of each
/// block the mask is chosen over the whole block, removing the weights of smallest
/// w² / [H⁻¹]_jj² (the OBS saliency with the inverse Hessian as it stands after the earlier
/// columns), `sparsity` of the block's weights, so the rows share the zeros unevenly where that
/// costs less (the paper's adaptive mask selection). N:M: at the start of each run of M
/// columns, each row removes its M − N weights of smallest saliency, giving the exact pattern.
public enum SparseGPT {
  public struct Result: Sendable {
    /// The updated weight [out, in], zero where removed.
    public var weight: [Float]
    /// 1 keep, 0 removed.
    public var mask: [Float]
  }

  /// Prunes `weight` [out, in] for inputs whose Hessian is `hessian`. Weights a `previous` mask
  /// removed are removed again first (they count towards the sparsity).
  public static func prune(
    _ weight: Tensor<Float>, hessian: SymmetricMatrix, sparsity: Double, pattern: SparsityPattern,
    damp: Double = 0.01, blockSize: Int = 128, previous: Tensor<Float>? = nil
  ) throws -> Result {
    let rows = weight.shape[0]
    let columns = weight.count / rows
    precondition(hessian.size == columns, "Hessian of \(hessian.size) inputs for a weight of \(columns)")
    var w = weight.contiguous().scalars.map(Double.init)
    var h = hessian
    for j in h.reviveDeadInputs() {
      for r in 0..<rows { w[r * columns + j] = 0 }
    }
    h.dampen(damp)
    let u = try h.inverseCholeskyUpper()
    let forced = previous?.scalars.map { $0 == 0 }
    var block = max(1, blockSize)
    if case .keep(_, let m) = pattern {
      precondition(columns % m == 0, "N:M needs a width that is a multiple of M")
      block = max(m, block / m * m)
    }
    var removed = [Bool](repeating: false, count: rows * columns)
    var errors = [Double](repeating: 0, count: rows * block)
    w.withUnsafeMutableBufferPointer { w in
      u.withUnsafeBufferPointer { u in
        errors.withUnsafeMutableBufferPointer { errors in
          let pass = OBSUpdate.Pass(w: w, u: u, errors: errors, rows: rows, columns: columns, block: block)
          // OBS saliency of weight (r, c) with the inverse Hessian as it stands at column c.
          func saliency(_ r: Int, _ c: Int) -> Double {
            if forced?[r * columns + c] == true { return -1 }
            let d = u[c * columns + c]
            return w[r * columns + c] * w[r * columns + c] / (d * d)
          }
          var start = 0
          while start < columns {
            let end = min(start + block, columns)
            let width = end - start
            if pattern == .unstructured {
              let count = Int((Double(rows * width) * sparsity).rounded())
              let candidates = (0..<rows).flatMap { r in (start..<end).map { (r, $0) } }
              let ranked = candidates.map { ($0, saliency($0.0, $0.1)) }.sorted {
                ($0.1, $0.0.0 * columns + $0.0.1) < ($1.1, $1.0.0 * columns + $1.0.1)
              }
              for (position, (index, score)) in ranked.enumerated() where position < count || score < 0 {
                removed[index.0 * columns + index.1] = true
              }
            }
            for i in start..<end {
              if case .keep(let n, let m) = pattern, (i - start) % m == 0 {
                for r in 0..<rows {
                  let run = (i..<(i + m)).sorted { (saliency(r, $0), $0) < (saliency(r, $1), $1) }
                  for (position, c) in run.enumerated() where position < m - n || saliency(r, c) < 0 {
                    removed[r * columns + c] = true
                  }
                }
              }
              for r in 0..<rows {
                let value = w[r * columns + i]
                let kept = removed[r * columns + i] ? 0 : value
                w[r * columns + i] = kept
                pass.spread(value - kept, row: r, column: i, blockStart: start, blockEnd: end)
              }
            }
            pass.finishBlock(start: start, end: end)
            start = end
          }
        }
      }
    }
    return Result(weight: w.map { Float($0) }, mask: removed.map { $0 ? 0 : 1 })
  }
}
