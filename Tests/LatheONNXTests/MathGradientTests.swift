import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// Numerical gradient checks for `ONNXMathOp`, with `GradientTests.check`. Inputs there are
/// uniform in [−1.5, 1.5]; each op first maps them into its domain and away from its jumps (the
/// chain rule through the affine map is part of what is checked).
extension GradientTests {
  func math(_ kind: ONNXMathOp.Kind, _ others: Variable...) -> (Variable) -> Variable {
    { x in
      var context = ForwardContext(isTraining: true)
      return ONNXMathOp(kind).forward([x] + others, context: &context)
    }
  }

  /// `f` after x -> x · scale + shift.
  func mapped(_ scale: Float, _ shift: Float, _ f: @escaping (Variable) -> Variable) -> (Variable) -> Variable {
    { f($0 * scale + shift) }
  }

  func testMathUnaryGradients() {
    for name in ["HardSwish", "GeluTanh", "Mish", "Sin", "Cos", "Atan", "Sinh", "Cosh", "Asinh"] {
      check([3, 4], math(.unary(name)))
    }
    // HardSwish's kinks at ±3 and its flat and linear parts.
    check([3, 4], mapped(4, 0, math(.unary("HardSwish"))))
    check([3, 4], mapped(0.5, 0, math(.unary("Tan"))))
    for name in ["Asin", "Acos", "Atanh"] { check([3, 4], mapped(0.5, 0, math(.unary(name)))) }
    check([3, 4], mapped(0.5, 2.5, math(.unary("Acosh"))))
    check([3, 4], mapped(0.5, 2, math(.unary("Reciprocal"))))
    check([3, 4], mapped(-0.5, -2, math(.unary("Reciprocal"))))
    // Zero almost everywhere: inputs in [0.1, 0.4] touch no jump of any of them.
    for name in ["Floor", "Ceil", "Round", "Sign"] { check([3, 4], mapped(0.1, 0.25, math(.unary(name)))) }
    check([3, 4], math(.celu(alpha: 0.7)))
    check([3, 4], math(.thresholdedRelu(alpha: 0.3)))
    check([3, 4], math(.shrink(lambd: 0.4, bias: 0.2)))
  }

  func testMathBinaryGradients() {
    var g = SeededGenerator(seed: 11)
    let exponent = Variable(.uniform([4], low: -2, high: 2, generator: &g))
    let base = Variable(.uniform([3, 1], low: 0.5, high: 2, generator: &g))
    // Base (broadcast against the exponent), then exponent (against the base).
    check([3, 4], mapped(0.5, 2, math(.pow, exponent)))
    check([3, 1], mapped(0.5, 2, math(.pow, exponent)))
    check([4]) { x in self.math(.pow, x)(base) }
    // A negative base with an integral exponent: the base's gradient still exists.
    check([3, 4], math(.pow, Variable(Tensor(3))))
    // Remainders of dividends in [2.7, 3.3] by 1.25 (quotient 2) and by −1.25 (−2 or −3).
    check([3, 4], mapped(0.2, 3, math(.mod(fmod: true), Variable(Tensor(1.25)))))
    check([3, 4], mapped(0.2, 3, math(.mod(fmod: false), Variable(Tensor(-1.25)))))
    let dividend = Variable(Tensor(repeating: 3, shape: [2, 3]))
    check([3]) { x in self.math(.mod(fmod: true), x * 0.05 + 1.25)(dividend) }
    check([3]) { x in self.math(.mod(fmod: false), x * -0.05 + -1.25)(dividend) }
  }

  func testMathVariadicGradients() {
    var g = SeededGenerator(seed: 12)
    let b = Variable(.uniform([4], low: -1.5, high: 1.5, generator: &g))
    let c = Variable(.uniform([3, 1], low: -1.5, high: 1.5, generator: &g))
    for op in ONNXMathOp.Variadic.allCases {
      check([3, 4], math(.variadic(op), b, c))
      check([4]) { x in self.math(.variadic(op), x, c)(Variable(.zeros([3, 4]))) }
    }
  }

  func testMathReductionGradients() {
    for op in ONNXMathOp.Reduction.allCases where op != .logSum {
      check([2, 3, 4], math(.reduce(op, axes: [1], keepDims: false)))
      // Not [0, 2]: it puts two maxima closer than the differencing step in one group.
      check([2, 3, 4], math(.reduce(op, axes: [0, 1], keepDims: true)))
      check([2, 3], math(.reduce(op, axes: [], keepDims: false)))
    }
    check([2, 3, 4], mapped(0.5, 2, math(.reduce(.logSum, axes: [2], keepDims: true))))
  }

  /// ReduceProd's gradient is the product of the others, also where the group holds zeros
  /// (one zero: only that element gets a gradient; two: none does).
  func testReduceProdGradientWithZeros() {
    let x = Variable(Tensor(shape: [3, 3], scalars: [2, 0, 3, 0, 0, 1, 1, 2, 3]), requiresGrad: true)
    var context = ForwardContext(isTraining: true)
    ONNXMathOp(.reduce(.prod, axes: [1], keepDims: false)).forward([x], context: &context).sum().backpropagate()
    XCTAssertEqual(x.grad?.scalars, [0, 6, 0, 0, 0, 0, 6, 3, 2])
  }
}
