import CKernels
import Foundation

// Activation functions. Each keeps what its derivative needs (the input or the output).

extension Variable {
  public func relu() -> Variable {
    let y = value.mappedByKernel { lk_relu($0, $1, $2) }
    return Variable(y, parents: [self]) { g in
      [g.zipWith(self.value) { $1 > 0 ? $0 : 0 }]
    }
  }

  /// The error function (ONNX Erf), computed by lk_erf.
  public func erf() -> Variable {
    let y = value.mappedByKernel { lk_erf($0, $1, $2) }
    let scale = 2 / Float.pi.squareRoot()
    return Variable(y, parents: [self]) { g in
      [g.zipWith(self.value) { gy, v in gy * scale * Foundation.exp(-v * v) }]
    }
  }

  /// x · max(0, min(1, x/6 + 1/2)), MobileNetV3's activation (ONNX HardSwish).
  public func hardSwish() -> Variable {
    let y = value.mappedByKernel { lk_hard_swish($0, $1, $2) }
    return Variable(y, parents: [self]) { g in
      [g.zipWith(self.value) { gy, v in gy * (v < -3 ? 0 : (v > 3 ? 1 : v / 3 + 0.5)) }]
    }
  }

  /// max(0, min(1, alpha · x + beta)) (ONNX HardSigmoid; alpha 0.2, beta 0.5 by default there).
  public func hardSigmoid(alpha: Float, beta: Float) -> Variable {
    let y = value.mappedByKernel { lk_hard_sigmoid($0, $1, $2, alpha, beta) }
    return Variable(y, parents: [self]) { g in
      [
        g.zipWith(self.value) { gy, v in
          let t = alpha * v + beta
          return t > 0 && t < 1 ? gy * alpha : 0
        }
      ]
    }
  }

  public func leakyRelu(slope: Float = 0.01) -> Variable {
    Variable(value.mapFloat { $0 > 0 ? $0 : slope * $0 }, parents: [self]) { g in
      [g.zipWith(self.value) { $1 > 0 ? $0 : slope * $0 }]
    }
  }

  /// GELU, exact form x·Φ(x) as in the original paper and PyTorch's default.
  public func gelu() -> Variable {
    let invSqrt2: Float = 1 / Float(2).squareRoot()
    let invSqrt2Pi: Float = 1 / Float(2 * Float.pi).squareRoot()
    let y = value.mappedByKernel { lk_gelu($0, $1, $2) }
    return Variable(y, parents: [self]) { g in
      [
        g.zipWith(self.value) { gy, x in
          let cdf = 0.5 * (1 + Foundation.erf(x * invSqrt2))
          let pdf = invSqrt2Pi * Foundation.exp(-0.5 * x * x)
          return gy * (cdf + x * pdf)
        }
      ]
    }
  }

  /// x·σ(x) (SiLU or swish, Llama's MLP activation).
  public func silu() -> Variable {
    let s = value.mapFloat { 1 / (1 + Foundation.exp(-$0)) }
    return Variable(value * s, parents: [self]) { g in
      [g * s.zipWith(self.value) { sv, xv in sv * (1 + xv * (1 - sv)) }]
    }
  }

  public func sigmoid() -> Variable {
    let y = value.mapFloat { 1 / (1 + Foundation.exp(-$0)) }
    return Variable(y, parents: [self]) { g in [g.zipWith(y) { $0 * $1 * (1 - $1) }] }
  }

  public func tanh() -> Variable {
    let y = value.mapFloat { Foundation.tanh($0) }
    return Variable(y, parents: [self]) { g in [g.zipWith(y) { $0 * (1 - $1 * $1) }] }
  }

  /// Softmax along `axis` (the last by default).
  public func softmax(axis: Int = -1) -> Variable {
    let y = value.softmax(axis: axis)
    return Variable(y, parents: [self]) { g in
      // dx = y * (g - sum(g * y))
      let dot = (g * y).sum(axes: [axis], keepingDimensions: true)
      return [y * (g - dot)]
    }
  }

  /// log(softmax) along `axis`, computed stably.
  public func logSoftmax(axis: Int = -1) -> Variable {
    let y = value.logSoftmax(axis: axis)
    return Variable(y, parents: [self]) { g in
      let p = y.mapFloat { Foundation.exp($0) }
      return [g - p * g.sum(axes: [axis], keepingDimensions: true)]
    }
  }
}

extension Tensor where Scalar == Float {
  /// A tensor of this shape filled by `kernel(input, output, count)` over this one's elements
  /// (a CKernels loop); an empty tensor calls nothing.
  func mappedByKernel(_ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Tensor {
    let x = contiguous()
    return x.withUnsafeBufferPointer { src in
      Tensor(shape: x.shape) { dst in
        if src.count > 0 { kernel(src.baseAddress!, dst.baseAddress!, src.count) }
      }
    }
  }

  /// Softmax along `axis`, subtracting each row's maximum for stability.
  /// Each row runs in lk_softmax_rows (vectorised exp; libm's expf per element was most of an
  /// attention layer's softmax).
  public func softmax(axis: Int = -1) -> Tensor {
    alongLastAxis(axis) { row, out in
      if row.count > 0 { lk_softmax_rows(row.baseAddress!, out.baseAddress!, 1, row.count) }
    }
  }

  public func logSoftmax(axis: Int = -1) -> Tensor {
    alongLastAxis(axis) { row, out in
      var peak = -Float.infinity
      for v in row { peak = Swift.max(peak, v) }
      var total: Float = 0
      for v in row { total += Foundation.exp(v - peak) }
      let logTotal = Foundation.log(total)
      for i in 0..<row.count { out[i] = (row[i] - peak) - logTotal }
    }
  }

  /// Applies `body` to each run of elements along `axis`, moving that axis last and back.
  func alongLastAxis(
    _ axis: Int, _ body: (UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void
  ) -> Tensor {
    let axis = normalizedAxis(axis)
    var order = Array(0..<rank)
    order.remove(at: axis)
    order.append(axis)
    let moved = axis == rank - 1 ? contiguous() : permuted(order).contiguous()
    let length = shape[axis]
    let rows = length == 0 ? 0 : moved.count / length
    let result = moved.withUnsafeBufferPointer { src in
      Tensor(shape: moved.shape) { dst in
        for r in 0..<rows {
          body(
            UnsafeBufferPointer(rebasing: src[(r * length)..<((r + 1) * length)]),
            UnsafeMutableBufferPointer(rebasing: dst[(r * length)..<((r + 1) * length)]))
        }
      }
    }
    if axis == rank - 1 { return result }
    var inverse = [Int](repeating: 0, count: rank)
    for (i, a) in order.enumerated() { inverse[a] = i }
    return result.permuted(inverse).contiguous()
  }
}
