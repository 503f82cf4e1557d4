import Foundation
import LatheTensor
import LatheTestSupport
import XCTest

/// Gradient checks for broadcasting arithmetic and the element-wise functions.
final class ElementwiseGradientTests: XCTestCase {
  /// Operand shapes that broadcast: equal, a trailing row, and both sides growing.
  let shapePairs: [([Int], [Int])] = [([2, 3], [2, 3]), ([2, 3], [3]), ([3], [2, 3]), ([2, 1, 4], [3, 1])]

  func testAddBroadcasting() {
    for (a, b) in shapePairs {
      checkGradients([TestData.uniform(a, seed: 1), TestData.uniform(b, seed: 2)]) { $0[0] + $0[1] }
    }
  }

  func testSubtractBroadcasting() {
    for (a, b) in shapePairs {
      checkGradients([TestData.uniform(a, seed: 3), TestData.uniform(b, seed: 4)]) { $0[0] - $0[1] }
    }
  }

  func testMultiplyBroadcasting() {
    for (a, b) in shapePairs {
      checkGradients([TestData.uniform(a, seed: 5), TestData.uniform(b, seed: 6)]) { $0[0] * $0[1] }
    }
  }

  func testDivideBroadcasting() {
    for (a, b) in shapePairs {
      let denominator = TestData.uniform(b, seed: 8, low: 0.5, high: 2)
      checkGradients([TestData.uniform(a, seed: 7), denominator]) { $0[0] / $0[1] }
    }
  }

  func testOnlyOneOperandNeedsGradient() {
    let x = Variable(TestData.uniform([2, 3], seed: 9), requiresGrad: true)
    let c = Variable(TestData.uniform([3], seed: 10))
    (x * c).sum().backpropagate()
    XCTAssertNil(c.grad)
    assertClose(x.grad!, c.value.expanded(to: [2, 3]).contiguous())
  }

  func testNegateAndScalarOperands() {
    let x = TestData.uniform([2, 3], seed: 11)
    checkGradients([x]) { -$0[0] }
    checkGradients([x]) { $0[0] + 1.5 }
    checkGradients([x]) { $0[0] * -2.5 }
  }

  func testExpLogSqrt() {
    checkGradients([TestData.uniform([2, 3], seed: 12)]) { $0[0].exp() }
    checkGradients([TestData.uniform([2, 3], seed: 13, low: 0.5, high: 2)]) { $0[0].log() }
    checkGradients([TestData.uniform([2, 3], seed: 14, low: 0.5, high: 2)]) { $0[0].sqrt() }
  }

  func testPow() {
    let x = TestData.uniform([2, 3], seed: 15, low: 0.5, high: 2)
    for exponent: Float in [2, 3, 0.5, -1.5] {
      checkGradients([x]) { $0[0].pow(exponent) }
    }
  }

  func testReluAndLeakyRelu() {
    let x = TestData.awayFromZero([3, 4], seed: 16)
    checkGradients([x]) { $0[0].relu() }
    checkGradients([x]) { $0[0].leakyRelu() }
    checkGradients([x]) { $0[0].leakyRelu(slope: 0.2) }
  }

  /// The piecewise-linear activations (activation.c): gradients away from the kinks, and values
  /// against the definition on a tensor large enough to be split over the thread pool.
  func testHardSwishAndHardSigmoid() {
    // Kinks at ±3 (HardSwish) and at ±2.5 (HardSigmoid, alpha 0.2, beta 0.5) avoided.
    let x = Tensor<Float>(shape: [2, 4], scalars: [-4, -2, -0.7, 0.4, 1.3, 2.2, 2.8, 4.5])
    checkGradients([x]) { $0[0].hardSwish() }
    checkGradients([x]) { $0[0].hardSigmoid(alpha: 0.2, beta: 0.5) }
    checkGradients([x]) { $0[0].hardSigmoid(alpha: 1.0 / 6, beta: 0.5) }

    let large = TestData.uniform([3, 70_001], seed: 19, low: -5, high: 5)
    forEachKernelPath { _, isa in
      let swish = Variable(large).hardSwish().value
      let sigmoid = Variable(large).hardSigmoid(alpha: 0.2, beta: 0.5).value
      // The AVX2 build fuses alpha * x + beta into one FMA: equal to within an ulp, not bit for bit.
      assertClose(swish, large.mapFloat { $0 * Swift.max(0, Swift.min(1, $0 / 6 + 0.5)) }, accuracy: 1e-6, isa)
      assertClose(sigmoid, large.mapFloat { Swift.max(0, Swift.min(1, 0.2 * $0 + 0.5)) }, accuracy: 1e-6, isa)
    }
  }

  /// lk_erf (series below 0.5, Abramowitz-Stegun above, its own exp) against libm's erf, to 1e-6 relative, over
  /// [-7, 7] and at tiny arguments, where an absolute-error formula would fail relatively; GELU's
  /// forward uses it too.
  func testErfAndGeluAgainstLibm() {
    var points = (0...28_000).map { -7 + Float($0) / 2000 }
    points += [1e-30, -1e-7, 3e-5, 0.4999, 0.5, 0.5001, -0.5, 1e-3]
    let x = Tensor<Float>(shape: [points.count], scalars: points)
    forEachKernelPath { _, isa in
      let erf = Variable(x).erf().value.scalars
      let gelu = Variable(x).gelu().value.scalars
      for (i, v) in points.enumerated() {
        let expected = Foundation.erf(Double(v))
        XCTAssertEqual(Double(erf[i]), expected, accuracy: max(1e-6 * abs(expected), 1e-37), "\(isa) erf(\(v))")
        let expectedGelu = 0.5 * Double(v) * (1 + Foundation.erf(Double(v) / 2.0.squareRoot()))
        XCTAssertEqual(
          Double(gelu[i]), expectedGelu, accuracy: 1e-6 * max(1, abs(expectedGelu)), "\(isa) gelu(\(v))")
      }
    }
    checkGradients([TestData.uniform([3, 4], seed: 20, low: -2, high: 2)]) { $0[0].erf() }
  }

  func testSmoothActivations() {
    let x = TestData.uniform([3, 4], seed: 17, low: -3, high: 3)
    checkGradients([x]) { $0[0].gelu() }
    checkGradients([x]) { $0[0].sigmoid() }
    checkGradients([x]) { $0[0].tanh() }
  }

  func testSoftmaxAndLogSoftmax() {
    let x = TestData.uniform([2, 3, 4], seed: 18, low: -2, high: 2)
    for axis in [-1, 0, 1, 2] {
      checkGradients([x]) { $0[0].softmax(axis: axis) }
      checkGradients([x]) { $0[0].logSoftmax(axis: axis) }
    }
  }

  /// ReLU over a tensor large enough to be split over the thread pool, against max(x, 0).
  func testLargeReLUMatchesElementwiseMax() {
    let x = TestData.uniform([3, 70_001], seed: 881).mapFloat { $0 - 0.5 }
    let y = GradientRecording.disabled { Variable(x).relu().value }
    XCTAssertEqual(y.scalars, x.scalars.map { Swift.max($0, 0) })
  }
}
