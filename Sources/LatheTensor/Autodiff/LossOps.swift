import Foundation

// Losses, each averaged over the batch and returning a scalar variable.

extension Variable {
  /// Cross-entropy of logits [N, K] against class indices, with optional label smoothing:
  /// the target puts 1 − ε on the true class and ε/K on every class.
  public func crossEntropy(labels: [Int], labelSmoothing: Float = 0) -> Variable {
    precondition(
      value.rank == 2 && value.shape[0] == labels.count, "crossEntropy: logits \(shape), \(labels.count) labels")
    let (n, k) = (value.shape[0], value.shape[1])
    let logProbabilities = value.logSoftmax(axis: 1)
    let offTarget = labelSmoothing / Float(k)
    let onTarget = 1 - labelSmoothing + offTarget
    var total: Float = 0
    logProbabilities.withUnsafeBufferPointer { lp in
      for (row, label) in labels.enumerated() {
        precondition(label >= 0 && label < k, "label \(label) outside 0..<\(k)")
        var rowLoss: Float = 0
        if labelSmoothing > 0 {
          for j in 0..<k { rowLoss -= offTarget * lp[row * k + j] }
          rowLoss -= (onTarget - offTarget) * lp[row * k + label]
        } else {
          rowLoss = -lp[row * k + label]
        }
        total += rowLoss
      }
    }
    return Variable(Tensor(total / Float(n)), parents: [self]) { g in
      let scale = g.scalar / Float(n)
      let grad = Tensor<Float>(shape: [n, k]) { out in
        logProbabilities.withUnsafeBufferPointer { lp in
          for row in 0..<n {
            for j in 0..<k {
              let target = j == labels[row] ? onTarget : offTarget
              out[row * k + j] = (Foundation.exp(lp[row * k + j]) - target) * scale
            }
          }
        }
      }
      return [grad]
    }
  }

  /// Mean squared error between this variable and `target` (same shape).
  public func meanSquaredError(_ target: Variable) -> Variable {
    let difference = self - target
    return (difference * difference).mean()
  }

  /// Distillation loss: KL(p_teacher^T ‖ p_student^T) · T², where p^T = softmax(logits / T),
  /// averaged over the batch (Hinton et al. 2015). The teacher's logits get no gradient.
  public func distillationKL(teacherLogits: Tensor<Float>, temperature: Float) -> Variable {
    precondition(value.shape == teacherLogits.shape, "distillationKL: \(shape) vs teacher \(teacherLogits.shape)")
    let n = Float(value.shape[0])
    let t = temperature
    let studentLog = (value / t).logSoftmax(axis: 1)
    let teacherLog = (teacherLogits / t).logSoftmax(axis: 1)
    let teacherP = teacherLog.mapFloat { Foundation.exp($0) }
    let kl = (teacherP * (teacherLog - studentLog)).sum() / n * t * t
    return Variable(Tensor(kl), parents: [self]) { g in
      // d/ds = T² · (q − p) / T / N with q the student's softened probabilities.
      let q = studentLog.mapFloat { Foundation.exp($0) }
      return [(q - teacherP) * (g.scalar * t / n)]
    }
  }
}
