import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// Numerical gradient checks for `ONNXNegativeLogLikelihoodLoss`, with `GradientTests.check`:
/// with respect to the scores for every reduction, with and without weights and ignore_index,
/// through LogSoftmax (SoftmaxCrossEntropyLoss), and with respect to the weights; the targets
/// get a zero gradient.
extension GradientTests {
  func loss(
    _ reduction: ONNXNegativeLogLikelihoodLoss.Reduction, ignore: Int? = nil, softmax: Bool = false,
    _ inputs: [Variable], at slot: Int = 0
  ) -> (Variable) -> Variable {
    { x in
      var context = ForwardContext(isTraining: true)
      var all = inputs
      all.insert(x, at: slot)
      if softmax { all[0] = ONNXOp(.logSoftmax(axis: 1, coerced: false)).forward([all[0]], context: &context) }
      return ONNXNegativeLogLikelihoodLoss(reduction: reduction, ignoreIndex: ignore).forward(all, context: &context)
    }
  }

  func testLossGradients() {
    // [N, C, d] = [2, 3, 2]; target 1 appears twice, so ignoring it removes two elements.
    let t = Variable(Tensor(shape: [2, 2], scalars: [1, 0, 2, 1]))
    let w = Variable(Tensor(shape: [3], scalars: [0.5, 2, 1]))
    for reduction in ONNXNegativeLogLikelihoodLoss.Reduction.allCases {
      for softmax in [false, true] {
        check([2, 3, 2], loss(reduction, softmax: softmax, [t]))
        check([2, 3, 2], loss(reduction, softmax: softmax, [t, w]))
        check([2, 3, 2], loss(reduction, ignore: 1, softmax: softmax, [t, w]))
        check([2, 3], loss(reduction, ignore: -1, softmax: softmax, [Variable(Tensor(shape: [2], scalars: [-1, 2]))]))
      }
    }
  }

  /// The weight gradient, `mean`'s denominator included; weights are kept away from a zero sum.
  func testLossWeightGradients() {
    let x = Variable(Tensor(shape: [3, 3], scalars: [-1, -2, -3, -0.5, -1.5, -2.5, -4, 1, 2]))
    let t = Variable(Tensor(shape: [3], scalars: [2, 0, 2]))
    let offset = Variable(Tensor(repeating: 2, shape: [3]))
    for reduction in ONNXNegativeLogLikelihoodLoss.Reduction.allCases {
      for ignore in [nil, 0] {
        let f = loss(reduction, ignore: ignore, [x, t], at: 2)
        check([3]) { w in f(w + offset) }
      }
    }
  }

  func testLossTargetsGetZeroGradient() {
    let x = Variable(Tensor(shape: [2, 3], scalars: [-1, -2, -3, -0.5, -1.5, -2.5]), requiresGrad: true)
    let t = Variable(Tensor(shape: [2], scalars: [2, 0]), requiresGrad: true)
    var context = ForwardContext(isTraining: true)
    ONNXNegativeLogLikelihoodLoss(reduction: .mean, ignoreIndex: nil).forward([x, t], context: &context)
      .backpropagate()
    XCTAssertEqual(t.grad?.scalars, [0, 0])
    XCTAssertEqual(x.grad?.scalars, [0, 0, -0.5, -0.5, 0, 0])
  }
}
