import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// Numerical gradient checks for `ONNXIndexOp`, with `GradientTests.check`: gathers (a repeated
/// index sums its gradients), and scatters with every reduction, against the data and the
/// updates in turn.
extension GradientTests {
  func index(_ layer: ONNXIndexOp, updates: Tensor<Float>? = nil) -> (Variable) -> Variable {
    { x in
      var context = ForwardContext(isTraining: true)
      return layer.forward(updates.map { [x, Variable($0)] } ?? [x], context: &context)
    }
  }

  /// The scatter as a function of its updates, the data held fixed.
  func scatterOfUpdates(_ layer: ONNXIndexOp, data: Tensor<Float>) -> (Variable) -> Variable {
    { u in
      var context = ForwardContext(isTraining: true)
      return layer.forward([Variable(data), u], context: &context)
    }
  }

  func testGatherGradients() {
    check([3, 4], index(ONNXIndexOp(.gatherElements(axis: 1), indices: [0, -1, 0, 2, 1, 1], indicesShape: [2, 3])))
    check([3, 4], index(ONNXIndexOp(.gatherElements(axis: 0), indices: [2, 0, 2, 1], indicesShape: [1, 4])))
    check([2, 3, 2], index(ONNXIndexOp(.gatherND(batchDims: 0), indices: [1, 2, 0, 0, 1, 2], indicesShape: [3, 2])))
    check([2, 3, 2], index(ONNXIndexOp(.gatherND(batchDims: 1), indices: [2, 0], indicesShape: [2, 1, 1])))
  }

  func testScatterGradients() {
    var g = SeededGenerator(seed: 11)
    let data = Tensor<Float>.uniform([3, 4], low: -1.5, high: 1.5, generator: &g)
    for reduction in ONNXIndexOp.Reduction.allCases {
      // Both updates of row 0 land on [0, 1], both of row 1 on [1, 3]; row 2 is untouched.
      let e = ONNXIndexOp(
        .scatterElements(axis: 1, reduction: reduction), indices: [1, 1, 3, 3], indicesShape: [2, 2])
      check([3, 4], index(e, updates: Tensor<Float>.uniform([2, 2], low: -1.5, high: 1.5, generator: &g)))
      check([2, 2], scatterOfUpdates(e, data: data))
      // Rows 0 and 2 are scattered into, row 0 twice.
      let n = ONNXIndexOp(.scatterND(reduction: reduction), indices: [0, 2, 0], indicesShape: [3, 1])
      check([3, 4], index(n, updates: Tensor<Float>.uniform([3, 4], low: -1.5, high: 1.5, generator: &g)))
      check([3, 4], scatterOfUpdates(n, data: data))
    }
  }

  /// Products at zeros: d(x · u1 · u2)/du1 = x · u2 even where u1 is 0.
  func testScatterMulGradientAtZero() {
    let layer = ONNXIndexOp(.scatterElements(axis: 0, reduction: .mul), indices: [1, 1], indicesShape: [2])
    let x = Variable(Tensor(shape: [2], scalars: [5, 2]), requiresGrad: true)
    let u = Variable(Tensor(shape: [2], scalars: [0, 3]), requiresGrad: true)
    var context = ForwardContext(isTraining: true)
    layer.forward([x, u], context: &context).sum().backpropagate()
    XCTAssertEqual(x.grad?.scalars, [1, 0])
    XCTAssertEqual(u.grad?.scalars, [6, 0])
  }

  /// With `none` the last update to a position takes its gradient; the data there gets none.
  func testScatterNoneGradientGoesToTheLastWriter() {
    let layer = ONNXIndexOp(.scatterElements(axis: 0, reduction: .none), indices: [0, 2, 0], indicesShape: [3])
    let x = Variable(Tensor(shape: [3], scalars: [1, 2, 3]), requiresGrad: true)
    let u = Variable(Tensor(shape: [3], scalars: [7, 8, 9]), requiresGrad: true)
    var context = ForwardContext(isTraining: true)
    let y = layer.forward([x, u], context: &context)
    XCTAssertEqual(y.value.scalars, [9, 2, 8])
    (y * Variable(Tensor(shape: [3], scalars: [10, 20, 30]))).sum().backpropagate()
    XCTAssertEqual(x.grad?.scalars, [0, 20, 0])
    XCTAssertEqual(u.grad?.scalars, [0, 30, 10])
  }
}
