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
