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

  func testReductionValues() {
    let v = Variable(x)
    XCTAssertEqual(v.sum().value.scalar, x.scalars.reduce(0, +), accuracy: 1e-5)
    XCTAssertEqual(v.mean().value.scalar, x.scalars.reduce(0, +) / 24, accuracy: 1e-6)
    let sums = v.sum(axes: [0, 2]).value
    let means = v.mean(axes: [0, 2], keepingDimensions: true).value
    XCTAssertEqual(sums.shape, [3])
    XCTAssertEqual(means.shape, [1, 3, 1])
    for j in 0..<3 {
      var total: Float = 0
      for i in 0..<2 {
        for k in 0..<4 { total += x[i, j, k] }
      }
      XCTAssertEqual(sums[j], total, accuracy: 1e-5)
      XCTAssertEqual(means[0, j, 0], total / 8, accuracy: 1e-6)
    }
    let lastAxisMeans = v.mean(axes: [-1]).value
    XCTAssertEqual(lastAxisMeans.shape, [2, 3])
    XCTAssertEqual(lastAxisMeans[1, 2], (0..<4).map { x[1, 2, $0] }.reduce(0, +) / 4, accuracy: 1e-6)
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
