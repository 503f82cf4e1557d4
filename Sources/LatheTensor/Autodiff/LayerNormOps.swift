import Foundation

// Normalisation over the last axis, each row on its own: what transformers use (LayerNorm in
// GPT-2 and BERT, RMSNorm in Llama), where batch norm's statistics over the batch would mix
// tokens of different sequences.

extension Variable {
  /// (x − mean)/√(var + ε)·γ + β over the last axis, with the biased variance as PyTorch's
  /// LayerNorm computes it; `beta` may be nil (no shift).
  public func layerNorm(gamma: Variable, beta: Variable?, epsilon: Float) -> Variable {
    normalizedRows(gamma: gamma, beta: beta, epsilon: epsilon, centered: true)
  }

  /// x/√(mean(x²) + ε)·γ over the last axis (Llama's RMSNorm: no centring, no shift).
  public func rmsNorm(gamma: Variable, epsilon: Float) -> Variable {
    normalizedRows(gamma: gamma, beta: nil, epsilon: epsilon, centered: false)
  }

  private func normalizedRows(gamma: Variable, beta: Variable?, epsilon: Float, centered: Bool) -> Variable {
    let x = value.contiguous()
    let width = x.shape.last ?? 0
    precondition(gamma.shape == [width], "normalisation: gamma \(gamma.shape) for rows of \(width)")
    let rows = width == 0 ? 0 : x.count / width
    let g = gamma.value.scalars
    let b = beta?.value.scalars
    // x̂ and 1/σ per row, kept for the backward pass.
    var inverse = [Float](repeating: 0, count: rows)
    let normalized = x.withUnsafeBufferPointer { p in
      Tensor<Float>(shape: x.shape) { xhat in
        for r in 0..<rows {
          let row = p.baseAddress! + r * width
          var mean: Float = 0
          if centered {
            for j in 0..<width { mean += row[j] }
            mean /= Float(width)
          }
          var power: Float = 0
          for j in 0..<width { power += (row[j] - mean) * (row[j] - mean) }
          let scale = 1 / (power / Float(width) + epsilon).squareRoot()
          inverse[r] = scale
          for j in 0..<width { xhat[r * width + j] = (row[j] - mean) * scale }
        }
      }
    }
    let y = normalized.withUnsafeBufferPointer { xhat in
      Tensor<Float>(shape: x.shape) { out in
        for r in 0..<rows {
          for j in 0..<width { out[r * width + j] = xhat[r * width + j] * g[j] + (b?[j] ?? 0) }
        }
      }
    }
    let parents = beta.map { [self, gamma, $0] } ?? [self, gamma]
    return Variable(y, parents: parents) { upstream in
      let gc = upstream.contiguous()
      var dGamma = [Float](repeating: 0, count: width)
      var dBeta = [Float](repeating: 0, count: width)
      let dx = gc.withUnsafeBufferPointer { gp in
        normalized.withUnsafeBufferPointer { xhat in
          Tensor<Float>(shape: x.shape) { out in
            for r in 0..<rows {
              // With gx = g·γ: LayerNorm dx = (gx − mean(gx) − x̂·mean(gx·x̂))/σ, and RMSNorm
              // drops the mean(gx) term because nothing was subtracted.
              var sum: Float = 0
              var dot: Float = 0
              for j in 0..<width {
                let i = r * width + j
                let gx = gp[i] * g[j]
                sum += gx
                dot += gx * xhat[i]
                dGamma[j] += gp[i] * xhat[i]
                dBeta[j] += gp[i]
              }
              let meanG = centered ? sum / Float(width) : 0
              let meanDot = dot / Float(width)
              for j in 0..<width {
                let i = r * width + j
                out[i] = (gp[i] * g[j] - meanG - xhat[i] * meanDot) * inverse[r]
              }
            }
          }
        }
      }
      var grads: [Tensor<Float>?] = [dx, Tensor(shape: [width], scalars: dGamma)]
      if beta != nil { grads.append(Tensor(shape: [width], scalars: dBeta)) }
      return grads
    }
  }
}
