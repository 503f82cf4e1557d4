import Foundation

// What turns a BERT encoder's token states into one sentence embedding, as sentence-transformers
// does it: the mean of the states of the real (unpadded) tokens, then scaling to unit length.

extension Variable {
  /// The mean over axis 1 of x [batch, sequence, width] weighted by `mask` [batch, sequence]
  /// (1 for tokens, 0 for padding): Σ mₛ·xₛ / max(Σ mₛ, 1e-9), sentence-transformers' Pooling
  /// with `pooling_mode_mean_tokens`. A row of padding only gives zeros. The gradient flows to x;
  /// the mask is data.
  public func maskedMean(mask: Tensor<Float>) -> Variable {
    let x = value.contiguous()
    precondition(x.shape.count == 3, "masked mean: x \(x.shape) is not [batch, sequence, width]")
    let (batch, length, width) = (x.shape[0], x.shape[1], x.shape[2])
    precondition(mask.shape == [batch, length], "masked mean: mask \(mask.shape) for x \(x.shape)")
    let m = mask.contiguous().scalars
    // 1 / max(Σ m, 1e-9) per row: the weight each token's state gets, times its mask value.
    let inverse = (0..<batch).map { b in 1 / Swift.max(m[(b * length)..<((b + 1) * length)].reduce(0, +), 1e-9) }
    let y = x.withUnsafeBufferPointer { xp in
      Tensor<Float>(shape: [batch, width]) { out in
        out.update(repeating: 0)
        for b in 0..<batch {
          for s in 0..<length where m[b * length + s] != 0 {
            let weight = m[b * length + s] * inverse[b]
            let row = xp.baseAddress! + (b * length + s) * width
            for j in 0..<width { out[b * width + j] += weight * row[j] }
          }
        }
      }
    }
    return Variable(y, parents: [self]) { g in
      let gc = g.contiguous()
      let dx = gc.withUnsafeBufferPointer { gp in
        Tensor<Float>(shape: [batch, length, width]) { out in
          for b in 0..<batch {
            for s in 0..<length {
              let weight = m[b * length + s] * inverse[b]
              for j in 0..<width { out[(b * length + s) * width + j] = weight * gp[b * width + j] }
            }
          }
        }
      }
      return [dx]
    }
  }

  /// x / max(‖x‖, ε) over the last axis (torch.nn.functional.normalize, sentence-transformers'
  /// Normalize): each row to unit length, a row of zeros staying zeros.
  public func l2Normalized(epsilon: Float = 1e-12) -> Variable {
    let x = value.contiguous()
    let width = x.shape.last ?? 0
    let rows = width == 0 ? 0 : x.count / width
    let xs = x.scalars
    let norms = (0..<rows).map { r in
      Swift.max(xs[(r * width)..<((r + 1) * width)].reduce(0) { $0 + $1 * $1 }.squareRoot(), epsilon)
    }
    let y = Tensor<Float>(shape: x.shape) { out in
      for r in 0..<rows {
        for j in 0..<width { out[r * width + j] = xs[r * width + j] / norms[r] }
      }
    }
    return Variable(y, parents: [self]) { g in
      let gs = g.contiguous().scalars
      let ys = y.scalars
      let dx = Tensor<Float>(shape: x.shape) { out in
        for r in 0..<rows {
          let row = (r * width)..<((r + 1) * width)
          // Below ε the denominator is the constant ε, so only the direct term remains.
          let clamped = norms[r] == epsilon
          let dot = clamped ? 0 : row.reduce(Float(0)) { $0 + gs[$1] * ys[$1] }
          for i in row { out[i] = (gs[i] - ys[i] * dot) / norms[r] }
        }
      }
      return [dx]
    }
  }

  /// GELU's tanh approximation, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): GPT-2's "gelu_new"
  /// (PyTorch's gelu(approximate="tanh")). Its weights were trained with it, so the exact
  /// erf form would shift every activation a little.
  public func geluTanh() -> Variable {
    let c = Float(2 / Double.pi).squareRoot()
    let y = value.mapFloat { x in 0.5 * x * (1 + Foundation.tanh(c * (x + 0.044715 * x * x * x))) }
    return Variable(y, parents: [self]) { g in
      [
        g.zipWith(self.value) { gy, x in
          let t = Foundation.tanh(c * (x + 0.044715 * x * x * x))
          return gy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x))
        }
      ]
    }
  }
}
