import LatheTensor
import XCTest

/// Gradient checks for reductions and movement ops on variables.
final class ShapeGradientTests: XCTestCase {
  let x = TestData.uniform([2, 3, 4], seed: 21)

  func testSumAndMeanOfAll() {
    checkGradients([x]) { $0[0].sum() }
    checkGradients([x]) { $0[0].mean() }
  }

  func testSumAndMeanOverAxes() {
    for axes in [[0], [1], [2], [-1], [0, 2], [1, 2], [0, 1, 2]] {
      for keep in [false, true] {
        checkGradients([x]) { $0[0].sum(axes: axes, keepingDimensions: keep) }
        checkGradients([x]) { $0[0].mean(axes: axes, keepingDimensions: keep) }
      }
    }
  }

  func testReshapeAndFlatten() {
    checkGradients([x]) { $0[0].reshaped([4, -1]) }
    checkGradients([TestData.uniform([2, 3, 2, 2], seed: 22)]) { $0[0].flattened() }
    checkGradients([TestData.uniform([2, 3, 2, 2], seed: 23)]) { $0[0].flattened(startAxis: 2) }
  }

  func testPermuteAndTranspose() {
    for permutation in [[0, 1, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0]] {
      checkGradients([x]) { $0[0].permuted(permutation) }
    }
    checkGradients([x]) { $0[0].transposed }
  }

  func testSlice() {
    checkGradients([x]) { $0[0].sliced(axis: 0, 1..<2) }
    checkGradients([x]) { $0[0].sliced(axis: 1, 0..<2) }
    checkGradients([x]) { $0[0].sliced(axis: -1, 1..<3) }
    checkGradients([x]) { $0[0].sliced(axis: 2, 0..<4) }
  }

  func testConcatenate() {
    let a = TestData.uniform([2, 1, 4], seed: 24)
    let b = TestData.uniform([2, 3, 4], seed: 25)
    checkGradients([a, b, a]) { Variable.concatenate($0, axis: 1) }
    checkGradients([x, b]) { Variable.concatenate($0, axis: 0) }
    checkGradients([x, TestData.uniform([2, 3, 2], seed: 26)]) { Variable.concatenate($0, axis: -1) }
  }
}
