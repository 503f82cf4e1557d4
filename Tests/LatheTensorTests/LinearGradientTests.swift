import LatheTensor
import XCTest

/// Gradient checks for matrix products and fully connected layers.
final class LinearGradientTests: XCTestCase {
  func testMatmul() {
    checkGradients([TestData.uniform([7, 5], seed: 31), TestData.uniform([5, 3], seed: 32)]) { $0[0].matmul($0[1]) }
    checkGradients([TestData.uniform([1, 4], seed: 33), TestData.uniform([4, 6], seed: 34)]) { $0[0].matmul($0[1]) }
  }

  func testMatmulOfTransposedOperand() {
    let a = TestData.uniform([5, 7], seed: 35)
    let b = TestData.uniform([5, 3], seed: 36)
    checkGradients([a, b]) { $0[0].transposed.matmul($0[1]) }
  }

  func testBatchedMatmul() {
    let a = TestData.uniform([3, 4, 5], seed: 45)
    let b = TestData.uniform([5, 2], seed: 46)
    let c = TestData.uniform([3, 5, 2], seed: 47)
    let d = TestData.uniform([4, 5], seed: 48)
    checkGradients([a, b]) { $0[0].matmul($0[1]) }
    checkGradients([d, c]) { $0[0].matmul($0[1]) }
    checkGradients([a, c]) { $0[0].matmul($0[1]) }
  }

  func testLinearWithBias() {
    let x = TestData.uniform([4, 5], seed: 37)
    let w = TestData.uniform([3, 5], seed: 38)
    let b = TestData.uniform([3], seed: 39)
    checkGradients([x, w, b]) { $0[0].linear(weight: $0[1], bias: $0[2]) }
  }

  func testLinearWithoutBias() {
    let x = TestData.uniform([4, 5], seed: 40)
    let w = TestData.uniform([3, 5], seed: 41)
    checkGradients([x, w]) { $0[0].linear(weight: $0[1], bias: nil) }
  }

  func testLinearForwardMatchesNaiveLoops() {
    let x = TestData.uniform([4, 5], seed: 42)
    let w = TestData.uniform([3, 5], seed: 43)
    let b = TestData.uniform([3], seed: 44)
    let y = Variable(x).linear(weight: Variable(w), bias: Variable(b)).value
    var expected = Tensor<Float>.zeros([4, 3])
    for i in 0..<4 {
      for o in 0..<3 {
        var total = b[o]
        for k in 0..<5 { total += x[i, k] * w[o, k] }
        expected[i, o] = total
      }
    }
    assertClose(y, expected)
  }
}

/// A Linear over the last axis of rank-3 and rank-4 inputs ([..., in] -> [..., out]), against
/// plain loops, and its gradients through the folding of the leading axes.
final class LinearOverLastAxisTests: XCTestCase {
  /// y[r, o] = b[o] + Σ_k x[r, k]·W[o, k] for every row r of the leading axes, by loops.
  func naive(_ x: Tensor<Float>, _ w: Tensor<Float>, _ b: Tensor<Float>) -> Tensor<Float> {
    let (inputs, outputs) = (w.shape[1], w.shape[0])
    let rows = x.count / inputs
    let (xs, ws, bs) = (x.scalars, w.scalars, b.scalars)
    var y = [Float](repeating: 0, count: rows * outputs)
    for r in 0..<rows {
      for o in 0..<outputs {
        var total = bs[o]
        for k in 0..<inputs { total += xs[r * inputs + k] * ws[o * inputs + k] }
        y[r * outputs + o] = total
      }
    }
    return Tensor(shape: Array(x.shape.dropLast()) + [outputs], scalars: y)
  }

  func testRankThreeAndFourMatchLoops() throws {
    var g = SeededGenerator(seed: 5)
    let layer = Linear(inputs: 6, outputs: 4, generator: &g)
    layer.bias!.value = TestData.uniform([4], seed: 51)
    for shape in [[2, 3, 6], [2, 3, 5, 6], [1, 1, 6]] {
      let x = TestData.uniform(shape, seed: 52)
      var context = ForwardContext.inference
      let y = layer.forward([Variable(x)], context: &context).value
      assertClose(y, naive(x, layer.weight.value, layer.bias!.value), "input \(shape)")
      XCTAssertEqual(try layer.outputShape(for: [shape]), Array(shape.dropLast()) + [4])
    }
  }

  func testRankThreeGradients() {
    let x = TestData.uniform([2, 3, 5], seed: 53)
    let w = TestData.uniform([4, 5], seed: 54)
    let b = TestData.uniform([4], seed: 55)
    checkGradients([x, w, b]) { $0[0].linearOverLastAxis(weight: $0[1], bias: $0[2]) }
    checkGradients([x, w]) { $0[0].linearOverLastAxis(weight: $0[1], bias: nil) }
  }

  /// A rank-3 Linear trains: one SGD step lowers the loss and moves the weight.
  func testRankThreeLinearTrains() throws {
    var g = SeededGenerator(seed: 6)
    let layer = Linear(inputs: 5, outputs: 3, generator: &g)
    let x = Variable(TestData.uniform([4, 7, 5], seed: 56))
    let target = Variable(TestData.uniform([4, 7, 3], seed: 57))
    func loss() -> Variable {
      var context = ForwardContext(isTraining: true)
      return layer.forward([x], context: &context).meanSquaredError(target)
    }
    let before = loss()
    before.backpropagate()
    layer.weight.collectGradient()
    let grad = try XCTUnwrap(layer.weight.grad)
    XCTAssertEqual(grad.shape, [3, 5])
    layer.weight.value = layer.weight.value - grad * 0.1
    XCTAssertLessThan(GradientRecording.disabled { loss() }.value.scalar, before.value.scalar)
  }

  func testShapeRuleNamesTheProblem() {
    XCTAssertEqual(try ShapeRules.linear([[2, 9, 4]], in: 4, out: 3), [2, 9, 3])
    XCTAssertEqual(try ShapeRules.linear([[2, 4]], in: 4, out: 3), [2, 3])
    XCTAssertThrowsError(try ShapeRules.linear([[4]], in: 4, out: 3)) { error in
      XCTAssertTrue("\(error)".contains("rank 2 or more"), "\(error)")
    }
    XCTAssertThrowsError(try ShapeRules.linear([[2, 4, 5]], in: 4, out: 3)) { error in
      XCTAssertTrue("\(error)".contains("4 features on the last axis"), "\(error)")
    }
  }
}
