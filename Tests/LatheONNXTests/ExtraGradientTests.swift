import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// Numerical gradient checks for `ONNXLpNormalization` (p 1 and 2, on several axes) and
/// `ONNXEinsum` (a product, a contraction with a diagonal, a transpose), with `GradientTests.check`.
extension GradientTests {
  func testLpNormalizationGradients() {
    for p in [1, 2] {
      for axis in [0, 1, 2] {
        check([2, 3, 4]) { x in
          var context = ForwardContext(isTraining: true)
          return ONNXLpNormalization(axis: axis, p: p).forward([x], context: &context)
        }
      }
    }
  }

  func testEinsumGradients() throws {
    let w = Variable(Tensor(shape: [4, 3], scalars: (0..<12).map { Float($0) * 0.1 - 0.5 }))
    for equation in ["bij,jk->bik", "bij,ik->jk"] {
      let layer = try ONNXEinsum(equation: equation)
      check([2, 3, 4]) { x in
        var context = ForwardContext(isTraining: true)
        let other = equation == "bij,jk->bik" ? w : Variable(w.value.reshaped([3, 4]))
        return layer.forward([x, other], context: &context)
      }
    }
    // The second operand's gradient too, and a diagonal.
    let x = Variable(Tensor(shape: [3, 4], scalars: (0..<12).map { Float($0) * 0.2 - 1 }))
    let mm = try ONNXEinsum(equation: "ij,jk->ik")
    check([4, 2]) { y in
      var context = ForwardContext(isTraining: true)
      return mm.forward([x, y], context: &context)
    }
    let diagonal = try ONNXEinsum(equation: "iij->ji")
    check([3, 3, 2]) { y in
      var context = ForwardContext(isTraining: true)
      return diagonal.forward([y], context: &context)
    }
  }
}

extension GradientTests {
  func testCenterCropPadGradients() {
    check([3, 4, 2]) { x in
      var context = ForwardContext(isTraining: true)
      return ONNXCenterCropPad(axes: [0, 1], sizes: [2, 7]).forward([x], context: &context)
    }
  }
}

extension GradientTests {
  /// x's gradient (caches fixed) and the caches' (x fixed), 4-D and 3-D, halves and interleaved.
  func testRotaryEmbeddingGradients() {
    let caches = (0..<2).map { k in Variable(Tensor(shape: [3, 2], scalars: (0..<6).map { Float($0 + k) * 0.3 - 0.7 }))
    }
    for interleaved in [false, true] {
      let four = ONNXRotaryEmbedding(interleaved: interleaved, rotaryDim: 0, heads: 0, positions: [2, 0, 1, 1])
      check([2, 1, 2, 4]) { x in
        var context = ForwardContext(isTraining: true)
        return four.forward([x, caches[0], caches[1]], context: &context)
      }
      let three = ONNXRotaryEmbedding(interleaved: interleaved, rotaryDim: 4, heads: 2, positions: nil)
      let x = Variable(Tensor(shape: [1, 3, 12], scalars: (0..<36).map { sinf(Float($0)) }))
      check([1, 3, 2]) { c in
        var context = ForwardContext(isTraining: true)
        return three.forward([x, c, caches[1]], context: &context)
      }
      check([1, 3, 2]) { s in
        var context = ForwardContext(isTraining: true)
        return three.forward([x, caches[0], s], context: &context)
      }
    }
  }
}
