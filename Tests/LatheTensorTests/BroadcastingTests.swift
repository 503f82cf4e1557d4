import LatheTensor
import LatheTestSupport
import XCTest

/// Broadcasting arithmetic, reductions and sumToShape against explicit index loops.
final class BroadcastingTests: XCTestCase {
  func testBroadcastShapes() {
    XCTAssertEqual(broadcastShape([2, 3], [3]), [2, 3])
    XCTAssertEqual(broadcastShape([2, 1, 4], [3, 1]), [2, 3, 4])
    XCTAssertEqual(broadcastShape([1], [5, 1]), [5, 1])
    XCTAssertEqual(broadcastShape([], [2, 2]), [2, 2])
    XCTAssertNil(broadcastShape([2, 3], [2]))
    XCTAssertNil(broadcastShape([4, 3], [2, 3]))
  }

  func testRowBroadcast() {
    let a = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let b = Tensor<Float>(shape: [3], scalars: [10, 20, 30])
    XCTAssertEqual((a + b).scalars, [11, 22, 33, 14, 25, 36])
    XCTAssertEqual((b - a).scalars, [9, 18, 27, 6, 15, 24])
  }

  func testBothSidesBroadcast() {
    let a = TestData.uniform([2, 1, 4], seed: 1500)
    let b = TestData.uniform([3, 1], seed: 1501, low: 0.5, high: 2)
    let sum = a + b
    let product = a * b
    let quotient = a / b
    let difference = b - a
    XCTAssertEqual(sum.shape, [2, 3, 4])
    for i in 0..<2 {
      for j in 0..<3 {
        for k in 0..<4 {
          XCTAssertEqual(sum[i, j, k], a[i, 0, k] + b[j, 0])
          XCTAssertEqual(product[i, j, k], a[i, 0, k] * b[j, 0])
          XCTAssertEqual(quotient[i, j, k], a[i, 0, k] / b[j, 0])
          XCTAssertEqual(difference[i, j, k], b[j, 0] - a[i, 0, k])
        }
      }
    }
  }

  func testBroadcastWithViewsAndScalars() {
    let a = TestData.uniform([3, 4], seed: 1502)
    let column = TestData.uniform([3, 1], seed: 1503)
    let t = a.transposed + column.transposed  // [4, 3] view plus [1, 3] view
    for i in 0..<4 {
      for j in 0..<3 { XCTAssertEqual(t[i, j], a[j, i] + column[j, 0]) }
    }
    let s = a + Tensor(2)
    XCTAssertEqual(s.scalars, a.scalars.map { $0 + 2 })
  }

  /// The shapes convolutional graphs broadcast (a [1, C, 1, 1] scale, a scalar on either side,
  /// a [N, 1, H, W] mask, a transposed view) against an index loop: the zip merges axes the
  /// operands step through together, and must not merge the others.
  func testNCHWBroadcastsAgainstIndexLoops() {
    let x = TestData.uniform([2, 3, 4, 5], seed: 1510)
    let operands: [(String, Tensor<Float>, (Int, Int, Int, Int) -> [Int])] = [
      ("channel", TestData.uniform([1, 3, 1, 1], seed: 1511, low: 0.5, high: 2), { _, c, _, _ in [0, c, 0, 0] }),
      ("scalar", TestData.uniform([1], seed: 1512, low: 0.5, high: 2), { _, _, _, _ in [0] }),
      ("plane", TestData.uniform([2, 1, 4, 5], seed: 1513, low: 0.5, high: 2), { n, _, h, w in [n, 0, h, w] }),
      ("row", TestData.uniform([4, 1], seed: 1514, low: 0.5, high: 2), { _, _, h, _ in [h, 0] }),
      (
        "view", TestData.uniform([5, 4], seed: 1515, low: 0.5, high: 2).transposed,
        { _, _, h, w in [h, w] }
      ),
    ]
    for (name, b, at) in operands {
      let quotient = x / b
      let reversed = b - x
      XCTAssertEqual(quotient.shape, [2, 3, 4, 5], name)
      for n in 0..<2 {
        for c in 0..<3 {
          for h in 0..<4 {
            for w in 0..<5 {
              let bv = b[at(n, c, h, w)]
              XCTAssertEqual(quotient[n, c, h, w], x[n, c, h, w] / bv, name)
              XCTAssertEqual(reversed[n, c, h, w], bv - x[n, c, h, w], name)
            }
          }
        }
      }
    }
  }

  /// Runs long enough to be split over the thread pool (lk_binary), same shape and a scalar on
  /// either side, against per-element Swift arithmetic.
  func testLongRunsSplitOverThreads() {
    let a = TestData.uniform([3, 100_003], seed: 1520)
    let b = TestData.uniform([3, 100_003], seed: 1521, low: 0.5, high: 2)
    let s = Tensor<Float>(shape: [1, 1], scalars: [1.5])
    forEachKernelPath { _, isa in
      XCTAssertEqual((a + b).scalars, zip(a.scalars, b.scalars).map { $0 + $1 }, isa)
      XCTAssertEqual((a - b).scalars, zip(a.scalars, b.scalars).map { $0 - $1 }, isa)
      XCTAssertEqual((a * s).scalars, a.scalars.map { $0 * 1.5 }, isa)
      XCTAssertEqual((s / b).scalars, b.scalars.map { 1.5 / $0 }, isa)
    }
  }

  /// Sums over trailing axes of a dense tensor take lk_row_sums (eight partial sums, runs not a
  /// multiple of eight); a transposed view takes the generic fold. Both against index loops.
  func testTrailingAxisSumsAgainstIndexLoops() {
    let x = TestData.uniform([3, 5, 37], seed: 1530)
    let byRow = x.sum(axes: [2])
    let byPlane = x.sum(axes: [1, 2], keepingDimensions: true)
    let all = x.sum(axes: [0, 1, 2])
    XCTAssertEqual(byRow.shape, [3, 5])
    XCTAssertEqual(byPlane.shape, [3, 1, 1])
    XCTAssertEqual(all.shape, [])
    var total: Float = 0
    for i in 0..<3 {
      var plane: Float = 0
      for j in 0..<5 {
        let row = (0..<37).map { x[i, j, $0] }.reduce(0, +)
        XCTAssertEqual(byRow[i, j], row, accuracy: 1e-5)
        plane += row
      }
      XCTAssertEqual(byPlane[i, 0, 0], plane, accuracy: 1e-5)
      total += plane
    }
    XCTAssertEqual(all.scalars[0], total, accuracy: 1e-4)
    let view = x.reshaped([15, 37]).transposed.sum(axes: [1])  // [37, 15], not contiguous
    for k in 0..<37 {
      XCTAssertEqual(view[k], (0..<15).map { x[$0 / 5, $0 % 5, k] }.reduce(0, +), accuracy: 1e-5)
    }
  }

  func testReductionsOverAxes() {
    let x = Tensor<Float>(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))
    let over1 = x.sum(axes: [1])
    XCTAssertEqual(over1.shape, [2, 4])
    for i in 0..<2 {
      for k in 0..<4 { XCTAssertEqual(over1[i, k], (0..<3).map { x[i, $0, k] }.reduce(0, +)) }
    }
    let over02 = x.sum(axes: [0, 2], keepingDimensions: true)
    XCTAssertEqual(over02.shape, [1, 3, 1])
    for j in 0..<3 {
      var total: Float = 0
      for i in 0..<2 {
        for k in 0..<4 { total += x[i, j, k] }
      }
      XCTAssertEqual(over02[0, j, 0], total)
    }
    XCTAssertEqual(x.mean(axes: [-1]).scalars, (0..<6).map { Float($0 * 4) + 1.5 })
    XCTAssertEqual(x.max(axes: [0]).scalars, (12..<24).map(Float.init))
    XCTAssertEqual(x.sum(), 276)
    XCTAssertEqual(x.mean(), 11.5)
  }

  func testSumToShape() {
    let g = TestData.uniform([2, 3, 4], seed: 1504)
    XCTAssertEqual(g.sumToShape([2, 3, 4]), g)
    let toRow = g.sumToShape([4])
    let toColumn = g.sumToShape([3, 1])
    let toMiddle = g.sumToShape([1, 3, 1])
    XCTAssertEqual(toRow.shape, [4])
    XCTAssertEqual(toColumn.shape, [3, 1])
    XCTAssertEqual(toMiddle.shape, [1, 3, 1])
    for k in 0..<4 {
      var total: Float = 0
      for i in 0..<2 {
        for j in 0..<3 { total += g[i, j, k] }
      }
      XCTAssertEqual(toRow[k], total, accuracy: 1e-5)
    }
    for j in 0..<3 {
      var total: Float = 0
      for i in 0..<2 {
        for k in 0..<4 { total += g[i, j, k] }
      }
      XCTAssertEqual(toColumn[j, 0], total, accuracy: 1e-5)
      XCTAssertEqual(toMiddle[0, j, 0], total, accuracy: 1e-5)
    }
    XCTAssertEqual(g.sumToShape([]).scalar, g.sum(), accuracy: 1e-5)
  }
}
