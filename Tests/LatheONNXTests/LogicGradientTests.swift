import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// Numerical gradient checks for `ONNXLogicOp`, with `GradientTests.check`: Where, CumSum and
/// Trilu pass the gradient to the values they move; the tests, ArgMax/ArgMin and Size are flat,
/// and their gradient is checked to be present and zero.
extension GradientTests {
  func logic(_ kind: ONNXLogicOp.Kind, _ inputs: [Variable], at slot: Int = 0) -> (Variable) -> Variable {
    { x in
      var context = ForwardContext(isTraining: true)
      var all = inputs
      all.insert(x, at: slot)
      return ONNXLogicOp(kind).forward(all, context: &context)
    }
  }

  func testWhereGradients() {
    let condition = Variable(Tensor(shape: [4], scalars: [1, 0, 0, 1]))
    var g = SeededGenerator(seed: 21)
    let other = Variable(.uniform([3, 1], low: -1, high: 1, generator: &g))
    // X (full shape) against a broadcast Y, then Y (broadcast, so its gradient sums) against X.
    check([3, 4], logic(.select, [condition, other], at: 1))
    check([3, 1], logic(.select, [condition, Variable(.zeros([3, 4]))], at: 2))
    // Every X element picked in one row, none in the other: X's gradient is g there, 0 here.
    let x = Variable(Tensor(repeating: 1, shape: [2, 2]), requiresGrad: true)
    let rows = Variable(Tensor(shape: [2, 1], scalars: [1, 0]))
    var context = ForwardContext(isTraining: true)
    ONNXLogicOp(.select).forward([rows, x, Variable(Tensor(0))], context: &context).sum().backpropagate()
    XCTAssertEqual(x.grad?.scalars, [1, 1, 0, 0])
  }

  func testCumSumAndTriluGradients() {
    for exclusive in [false, true] {
      for reverse in [false, true] {
        check([2, 3, 4], logic(.cumSum(axis: 1, exclusive: exclusive, reverse: reverse), []))
        check([2, 3, 4], logic(.cumSum(axis: 2, exclusive: exclusive, reverse: reverse), []))
      }
    }
    for upper in [false, true] {
      for k in [-1, 0, 2] { check([2, 3, 4], logic(.trilu(upper: upper, k: k), [])) }
    }
  }

  /// Flat outputs: the numerical gradient is zero (inputs lie far from every jump), and the
  /// analytic one is there and zero for every input, the second operand's included.
  func testFlatOutputsHaveZeroGradients() {
    let far = Variable(Tensor(2))
    var kinds: [(ONNXLogicOp.Kind, [Variable])] = ONNXLogicOp.Comparison.allCases.map { (.compare($0), [far]) }
    kinds += ONNXLogicOp.Logic.allCases.map { (.logic($0), [far]) }
    kinds += [(.not, []), (.isNaN, []), (.isInf(positive: true, negative: true), []), (.size, [])]
    kinds += [
      (.arg(.max, axis: 1, keepDims: true, selectLast: false), []),
      (.arg(.min, axis: 0, keepDims: false, selectLast: true), []),
    ]
    for (kind, others) in kinds {
      check([3, 4], logic(kind, others))
      let x = Variable(Tensor(repeating: 0.5, shape: [3, 4]), requiresGrad: true)
      let b = Variable(Tensor(1), requiresGrad: true)
      var context = ForwardContext(isTraining: true)
      ONNXLogicOp(kind).forward([x] + (others.isEmpty ? [] : [b]), context: &context).sum().backpropagate()
      XCTAssertEqual(x.grad?.scalars, Array(repeating: 0, count: 12), "\(kind)")
      if !others.isEmpty { XCTAssertEqual(b.grad?.scalars, [0], "\(kind)") }
    }
  }
}
