import LatheTensor
import LatheTestSupport
import XCTest

@testable import LatheCompress

/// The fp64 linear algebra under GPTQ and SparseGPT.
final class SymmetricMatrixTests: XCTestCase {
  /// XᵀX + εI for a random X [rows, n]: symmetric positive definite.
  func randomGram(_ n: Int, rows: Int, seed: UInt64) -> SymmetricMatrix {
    var g = SeededGenerator(seed: seed)
    let x = (0..<(rows * n)).map { _ in Double(g.nextNormal()) }
    var h = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0..<n {
        for r in 0..<rows { h[i * n + j] += x[r * n + i] * x[r * n + j] }
      }
      h[i * n + i] += 1e-3
    }
    return SymmetricMatrix(size: n, elements: h)
  }

  func product(_ a: [Double], _ b: [Double], _ n: Int, transposeA: Bool = false) -> [Double] {
    var out = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0..<n {
        for k in 0..<n { out[i * n + j] += (transposeA ? a[k * n + i] : a[i * n + k]) * b[k * n + j] }
      }
    }
    return out
  }

  func assertIdentity(_ m: [Double], _ n: Int, accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    for i in 0..<n {
      for j in 0..<n {
        XCTAssertEqual(m[i * n + j], i == j ? 1 : 0, accuracy: accuracy, "(\(i), \(j))", file: file, line: line)
      }
    }
  }

  func testCholeskyFactorsTheMatrix() throws {
    let n = 17
    let h = randomGram(n, rows: 40, seed: 1)
    let l = try h.cholesky()
    for i in 0..<n {
      XCTAssertGreaterThan(l[i * n + i], 0)
      for j in (i + 1)..<n { XCTAssertEqual(l[i * n + j], 0, "upper part of L is zero") }
    }
    var llt = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
      for j in 0..<n {
        for k in 0..<n { llt[i * n + j] += l[i * n + k] * l[j * n + k] }
      }
    }
    for (a, b) in zip(llt, h.elements) { XCTAssertEqual(a, b, accuracy: 1e-9 * max(1, abs(b))) }
  }

  func testInverseTimesMatrixIsTheIdentity() throws {
    let n = 23
    let h = randomGram(n, rows: 60, seed: 2)
    let inverse = try h.inverse()
    assertIdentity(product(h.elements, inverse.elements, n), n, accuracy: 1e-8)
    XCTAssertEqual(inverse.elements, (0..<(n * n)).map { inverse[$0 % n, $0 / n] }, "symmetric")
  }

  func testUpperFactorOfTheInverse() throws {
    let n = 9
    let h = randomGram(n, rows: 30, seed: 3)
    let u = try h.inverseCholeskyUpper()
    for i in 0..<n {
      for j in 0..<i { XCTAssertEqual(u[i * n + j], 0, "lower part of U is zero") }
    }
    // Uᵀ·U = H⁻¹, so H·Uᵀ·U = I.
    assertIdentity(product(h.elements, product(u, u, n, transposeA: true), n), n, accuracy: 1e-8)
  }

  func testSingularMatrixThrowsAndDampingRepairsIt() throws {
    // Rank 2 in 4 dimensions: XᵀX of 2 rows.
    let x: [Double] = [1, 2, 3, 4, -1, 0, 1, 2]
    var h = SymmetricMatrix(size: 4, elements: [Double](repeating: 0, count: 16))
    for i in 0..<4 {
      for j in 0..<4 { h[i, j] = x[i] * x[j] + x[4 + i] * x[4 + j] }
    }
    XCTAssertThrowsError(try h.cholesky()) { XCTAssertTrue("\($0)".contains("damp"), "\($0)") }
    let meanDiagonal = h.diagonal.reduce(0, +) / 4
    let before = h.diagonal
    h.dampen(0.01)
    for (a, b) in zip(h.diagonal, before) { XCTAssertEqual(a - b, 0.01 * meanDiagonal, accuracy: 1e-12) }
    let inverse = try SymmetricMatrix(size: 4, elements: h.elements).inverse()
    assertIdentity(product(h.elements, inverse.elements, 4), 4, accuracy: 1e-7)
  }

  func testDeadInputsAreRevivedAndNothingElseChanges() throws {
    var h = randomGram(5, rows: 20, seed: 4)
    for j in 0..<5 {
      h[1, j] = 0
      h[j, 1] = 0
    }
    let before = h
    XCTAssertThrowsError(try h.cholesky())
    XCTAssertEqual(h.reviveDeadInputs(), [1])
    XCTAssertEqual(h[1, 1], 1)
    for i in 0..<25 where i != 6 { XCTAssertEqual(h.elements[i], before.elements[i]) }
    XCTAssertNoThrow(try h.cholesky())
  }

  func testPermutationReordersRowsAndColumns() {
    let h = randomGram(4, rows: 10, seed: 5)
    let p = h.permuted([2, 0, 3, 1])
    XCTAssertEqual(p[0, 0], h[2, 2])
    XCTAssertEqual(p[0, 1], h[2, 0])
    XCTAssertEqual(p[3, 2], h[1, 3])
    XCTAssertEqual(p.permuted([1, 3, 0, 2]), h, "the inverse permutation gives it back")
  }

  func testStatisticsHessianAndChannelNorms() {
    let x = Tensor<Float>(shape: [2, 2, 3], scalars: [1, 0, -2, 3, 1, 0, 0, 0, 2, -1, 1, 1])
    var s = LayerInputStatistics(columns: 3, keptRowLimit: 3)
    s.add(x)  // [batch, seq, in]: four rows
    XCTAssertEqual(s.count, 4)
    XCTAssertEqual(s.keptRowCount, 3)
    XCTAssertEqual(Array(s.keptRows), [1, 0, -2, 3, 1, 0, 0, 0, 2])
    // H = 2/n·XᵀX; column 0 is (1, 3, 0, -1): Σx² = 11.
    XCTAssertEqual(s.hessian[0, 0], 2.0 / 4 * 11, accuracy: 1e-12)
    let crossProduct: Double = -2 - 1  // rows 1 and 4 of columns 0 and 2
    XCTAssertEqual(s.hessian[0, 2], 2.0 / 4 * crossProduct, accuracy: 1e-12)
    XCTAssertEqual(s.channelNorms[0], 11.0.squareRoot(), accuracy: 1e-12)
    let absoluteSum: Double = 2 + 0 + 2 + 1
    XCTAssertEqual(s.meanAbsolute[2], absoluteSum / 4, accuracy: 1e-12)
    // The output error of a weight difference E is Σ‖E·x‖² over the rows.
    let e: [Float] = [1, 0, 1]
    let squares: Double = 1 + 9 + 4 + 0
    XCTAssertEqual(s.squaredOutputError(of: e, rows: 1), squares, accuracy: 1e-9)
  }
}
