import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// Numerical gradient checks for `ONNXScanOp` and `ONNXLpPool`, with `GradientTests.check`:
/// CumProd's adjoint (also at zeros, where y / x would be 0/0), LpPool's for p = 2 and 3, and
/// Hardmax's zero gradient.
extension GradientTests {
  func scan(_ kind: ONNXScanOp.Kind) -> (Variable) -> Variable {
    { x in
      var context = ForwardContext(isTraining: true)
      return ONNXScanOp(kind).forward([x], context: &context)
    }
  }

  func testCumProdGradients() {
    for exclusive in [false, true] {
      for reverse in [false, true] {
        check([2, 3, 4], scan(.cumProd(axis: 1, exclusive: exclusive, reverse: reverse)))
        check([2, 3, 4], scan(.cumProd(axis: 2, exclusive: exclusive, reverse: reverse)))
      }
    }
  }

  /// At inputs holding zeros (one, or two in the same line) against central differences, which
  /// are exact up to rounding for a product (it is linear in each element).
  func testCumProdGradientWithZeros() {
    let x0: [Float] = [2, 0, 3, 0.5, 0, -1, 0, 4]
    let w: [Float] = [0.3, -1, 0.7, 2, -0.4, 1.1, 0.9, -0.6]
    for exclusive in [false, true] {
      for reverse in [false, true] {
        let kind = ONNXScanOp.Kind.cumProd(axis: 1, exclusive: exclusive, reverse: reverse)
        let f = scan(kind)
        let x = Variable(Tensor(shape: [2, 4], scalars: x0), requiresGrad: true)
        (f(x) * Variable(Tensor(shape: [2, 4], scalars: w))).sum().backpropagate()
        let analytic = x.grad!.scalars
        for i in x0.indices {
          var (plus, minus) = (x0, x0)
          plus[i] += 0.5
          minus[i] -= 0.5
          let value = { (v: [Float]) in
            GradientRecording.disabled {
              (f(Variable(Tensor(shape: [2, 4], scalars: v))).value * Tensor(shape: [2, 4], scalars: w)).sum()
            }
          }
          XCTAssertEqual(analytic[i], (value(plus) - value(minus)) / 1, accuracy: 1e-4, "\(kind) element \(i)")
        }
        XCTAssertTrue(analytic.allSatisfy(\.isFinite), "\(kind)")
      }
    }
    // Concretely: d(x0·x1·x2)/dx1 = x0·x2 = 6 although x1 is 0.
    let x = Variable(Tensor(shape: [3], scalars: [2, 0, 3]), requiresGrad: true)
    var context = ForwardContext(isTraining: true)
    let y = ONNXScanOp(.cumProd(axis: 0, exclusive: false, reverse: false)).forward([x], context: &context)
    y.sliced(axis: 0, 2..<3).sum().backpropagate()
    XCTAssertEqual(x.grad?.scalars, [0, 6, 0])
  }

  func testLpPoolGradients() {
    let window = WindowND(kernel: [2, 3], stride: [1, 2], pads: [1, 0, 0, 1], dilation: [1, 1])
    for p in [2, 3] {
      check([1, 2, 4, 5]) { x in
        var context = ForwardContext(isTraining: true)
        return ONNXLpPool(p: p, window: window).forward([x], context: &context)
      }
    }
    // A window of zeros: the norm's subgradient 0, not NaN.
    let x = Variable(Tensor.zeros([1, 1, 2, 2]), requiresGrad: true)
    var context = ForwardContext(isTraining: true)
    let pool = ONNXLpPool(
      p: 2, window: WindowND(kernel: [2, 2], stride: [1, 1], pads: [0, 0, 0, 0], dilation: [1, 1]))
    pool.forward([x], context: &context).sum().backpropagate()
    XCTAssertEqual(x.grad?.scalars, [0, 0, 0, 0])
  }

  func testHardmaxGradientIsZero() {
    for kind in [ONNXScanOp.Kind.hardmax(axis: 1, coerced: false), .hardmax(axis: 1, coerced: true)] {
      check([2, 3, 4], scan(kind))
      let x = Variable(Tensor(repeating: 0.5, shape: [2, 3]), requiresGrad: true)
      var context = ForwardContext(isTraining: true)
      ONNXScanOp(kind).forward([x], context: &context).sum().backpropagate()
      XCTAssertEqual(x.grad?.scalars, Array(repeating: 0, count: 6), "\(kind)")
    }
  }
}
