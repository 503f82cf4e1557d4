import Foundation
import LatheTensor

/// ONNX's NegativeLogLikelihoodLoss: scores `[N, C, d1, ...]` (log-probabilities), class indices
/// `[N, d1, ...]` and an optional weight per class `[C]`. Each element's loss is
/// `-w[t] * x[n, t, d]`, with weight 0 where the target is `ignoreIndex`; `mean` divides the sum
/// by the sum of the weights of the counted elements (not by their count, as ONNX specifies).
/// SoftmaxCrossEntropyLoss imports as LogSoftmax over the classes followed by this layer.
///
/// Targets are fp32 values holding exact integers (the engine computes in fp32). A target that
/// is not an integer in `0..<C` and not ignored gives a NaN loss: a forward pass cannot throw,
/// and NaN shows the fault where clamping would hide it. Targets get a zero gradient.
public final class ONNXNegativeLogLikelihoodLoss: Layer {
  /// Raw values are ONNX's `reduction` attribute.
  public enum Reduction: String, Sendable, CaseIterable {
    case none
    case sum
    case mean
  }

  public let reduction: Reduction
  public let ignoreIndex: Int?

  public init(reduction: Reduction, ignoreIndex: Int?) {
    self.reduction = reduction
    self.ignoreIndex = ignoreIndex
  }

  public func copy() -> Layer { ONNXNegativeLogLikelihoodLoss(reduction: reduction, ignoreIndex: ignoreIndex) }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let (x, target) = (inputs[0], inputs[1])
    let weight = inputs.count > 2 ? inputs[2] : nil
    let (n, c) = (x.shape[0], x.shape[1])
    let inner = x.shape.dropFirst(2).reduce(1, *)
    let xs = x.value.contiguous().scalars
    let ts = target.value.contiguous().scalars
    let ws = weight?.value.contiguous().scalars
    // Per element: the class it picks (nil when ignored or out of range) and its weight.
    var picked = [Int?](repeating: nil, count: n * inner)
    var w = [Float](repeating: 0, count: n * inner)
    var losses = [Float](repeating: 0, count: n * inner)
    for b in 0..<n {
      for d in 0..<inner {
        let at = b * inner + d
        let t = ts[at]
        if let ignore = ignoreIndex, t == Float(ignore) { continue }
        guard let k = Int(exactly: t), k >= 0, k < c else {
          losses[at] = .nan
          w[at] = .nan
          continue
        }
        picked[at] = k
        w[at] = ws?[k] ?? 1
        losses[at] = -w[at] * xs[(b * c + k) * inner + d]
      }
    }
    let total = losses.reduce(0, +)
    let weightSum = w.reduce(0, +)
    let y: Tensor<Float>
    switch reduction {
    case .none: y = Tensor(shape: target.shape, scalars: losses)
    case .sum: y = Tensor(total)
    case .mean: y = Tensor(total / weightSum)
    }
    let mean = reduction == .mean ? total / weightSum : 0
    return Variable(y, parents: inputs) { g in
      let gs = g.contiguous().scalars
      // The upstream gradient each element's loss receives.
      func upstream(_ at: Int) -> Float {
        switch self.reduction {
        case .none: gs[at]
        case .sum: gs[0]
        case .mean: gs[0] / weightSum
        }
      }
      var gx = [Float](repeating: 0, count: xs.count)
      var gw = [Float](repeating: 0, count: ws?.count ?? 0)
      for b in 0..<n {
        for d in 0..<inner {
          let at = b * inner + d
          guard let k = picked[at] else { continue }
          let index = (b * c + k) * inner + d
          gx[index] = -w[at] * upstream(at)
          // d(loss)/d(weight[k]): -x for the element itself, and for `mean` the denominator's
          // share, -mean per counted element of class k.
          if ws != nil { gw[k] += (-xs[index] - mean) * upstream(at) }
        }
      }
      var grads = [Tensor<Float>(shape: x.shape, scalars: gx), Tensor.zeros(target.shape)]
      if let weight { grads.append(Tensor(shape: weight.shape, scalars: gw)) }
      return grads
    }
  }
}
