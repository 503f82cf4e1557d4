// Batch normalisation and dropout: the two layers that behave differently in training.

/// Per-channel statistics of one training batch, for updating running estimates.
public struct BatchStatistics {
  public var mean: Tensor<Float>
  public var variance: Tensor<Float>
}

extension Variable {
  /// Batch norm in training mode: normalises with the batch's own per-channel mean and
  /// (biased) variance over every axis but 1. Returns the statistics too; the unbiased
  /// variance is what running estimates should track.
  public func batchNormTraining(gamma: Variable, beta: Variable, epsilon: Float) -> (Variable, BatchStatistics) {
    let x = value.contiguous()
    let (n, c) = (x.shape[0], x.shape[1])
    let s = x.count / Swift.max(n * c, 1)
    let m = Float(n * s)
    var mean = [Float](repeating: 0, count: c)
    var variance = [Float](repeating: 0, count: c)
    x.withUnsafeBufferPointer { p in
      for b in 0..<n {
        for ch in 0..<c {
          let base = (b * c + ch) * s
          for i in 0..<s { mean[ch] += p[base + i] }
        }
      }
      for ch in 0..<c { mean[ch] /= m }
      for b in 0..<n {
        for ch in 0..<c {
          let base = (b * c + ch) * s
          for i in 0..<s {
            let d = p[base + i] - mean[ch]
            variance[ch] += d * d
          }
        }
      }
    }
    for ch in 0..<c { variance[ch] /= m }
    let invStd = variance.map { 1 / ($0 + epsilon).squareRoot() }
    let gammas = gamma.value.scalars
    let betas = beta.value.scalars
    var normalized = Tensor<Float>.zeros(x.shape)
    let y = x.withUnsafeBufferPointer { p in
      Tensor<Float>(shape: x.shape) { out in
        normalized.withUnsafeMutableBufferPointer { xhat in
          for b in 0..<n {
            for ch in 0..<c {
              let base = (b * c + ch) * s
              for i in 0..<s {
                xhat[base + i] = (p[base + i] - mean[ch]) * invStd[ch]
                out[base + i] = xhat[base + i] * gammas[ch] + betas[ch]
              }
            }
          }
        }
      }
    }
    let xhatFinal = normalized
    let result = Variable(y, parents: [self, gamma, beta]) { g in
      var sumG = [Float](repeating: 0, count: c)
      var sumGX = [Float](repeating: 0, count: c)
      let gc = g.contiguous()
      gc.withUnsafeBufferPointer { gp in
        xhatFinal.withUnsafeBufferPointer { xh in
          for b in 0..<n {
            for ch in 0..<c {
              let base = (b * c + ch) * s
              for i in 0..<s {
                sumG[ch] += gp[base + i]
                sumGX[ch] += gp[base + i] * xh[base + i]
              }
            }
          }
        }
      }
      // dx = gamma·invStd/m · (m·g − Σg − x̂·Σ(g·x̂))
      let dx: Tensor<Float>? =
        self.requiresGrad
        ? gc.withUnsafeBufferPointer { gp in
          xhatFinal.withUnsafeBufferPointer { xh in
            Tensor<Float>(shape: x.shape) { out in
              for b in 0..<n {
                for ch in 0..<c {
                  let base = (b * c + ch) * s
                  let k = gammas[ch] * invStd[ch] / m
                  for i in 0..<s { out[base + i] = k * (m * gp[base + i] - sumG[ch] - xh[base + i] * sumGX[ch]) }
                }
              }
            }
          }
        } : nil
      return [dx, Tensor(shape: [c], scalars: sumGX), Tensor(shape: [c], scalars: sumG)]
    }
    let unbiased = m > 1 ? variance.map { $0 * m / (m - 1) } : variance
    return (
      result, BatchStatistics(mean: Tensor(shape: [c], scalars: mean), variance: Tensor(shape: [c], scalars: unbiased))
    )
  }

  /// Batch norm with fixed statistics (evaluation, or fine-tuning with frozen statistics):
  /// y = (x − mean)/√(var + ε)·γ + β, an affine map per channel.
  public func batchNormInference(
    gamma: Variable, beta: Variable, runningMean: Tensor<Float>, runningVariance: Tensor<Float>, epsilon: Float
  ) -> Variable {
    let x = value.contiguous()
    let (n, c) = (x.shape[0], x.shape[1])
    let s = x.count / Swift.max(n * c, 1)
    let means = runningMean.scalars
    let invStd = runningVariance.scalars.map { 1 / ($0 + epsilon).squareRoot() }
    let gammas = gamma.value.scalars
    let betas = beta.value.scalars
    let y = x.withUnsafeBufferPointer { p in
      Tensor<Float>(shape: x.shape) { out in
        for b in 0..<n {
          for ch in 0..<c {
            let base = (b * c + ch) * s
            let scale = gammas[ch] * invStd[ch]
            let shift = betas[ch] - means[ch] * scale
            for i in 0..<s { out[base + i] = p[base + i] * scale + shift }
          }
        }
      }
    }
    return Variable(y, parents: [self, gamma, beta]) { g in
      let gc = g.contiguous()
      var dGamma = [Float](repeating: 0, count: c)
      var dBeta = [Float](repeating: 0, count: c)
      let dx = gc.withUnsafeBufferPointer { gp in
        x.withUnsafeBufferPointer { p in
          Tensor<Float>(shape: x.shape) { out in
            for b in 0..<n {
              for ch in 0..<c {
                let base = (b * c + ch) * s
                for i in 0..<s {
                  out[base + i] = gp[base + i] * gammas[ch] * invStd[ch]
                  dGamma[ch] += gp[base + i] * (p[base + i] - means[ch]) * invStd[ch]
                  dBeta[ch] += gp[base + i]
                }
              }
            }
          }
        }
      }
      return [dx, Tensor(shape: [c], scalars: dGamma), Tensor(shape: [c], scalars: dBeta)]
    }
  }

  /// Inverted dropout: zeroes each element with probability `rate` and scales the rest by
  /// 1/(1 − rate), so evaluation needs no rescaling.
  public func dropout(rate: Float, generator: inout SeededGenerator) -> Variable {
    guard rate > 0 else { return self }
    let keep = 1 / (1 - rate)
    let mask = Tensor<Float>(shape: shape) { m in
      for i in 0..<m.count { m[i] = generator.nextUniform() < rate ? 0 : keep }
    }
    return Variable(value * mask, parents: [self]) { g in [g * mask] }
  }
}
