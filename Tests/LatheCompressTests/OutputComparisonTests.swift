import Foundation
import LatheTensor
import XCTest

@testable import LatheCompress

/// Every figure against values worked out here by the textbook formulas (plain exp, no
/// log-sum-exp), so the test shares no code with `OutputComparison`.
final class OutputComparisonTests: XCTestCase {
  func compare(_ reference: [[Float]], _ candidate: [[Float]]) throws -> OutputComparison.Result {
    var comparison = OutputComparison()
    try comparison.add(reference: matrix(reference), candidate: matrix(candidate))
    return comparison.result
  }

  func matrix(_ rows: [[Float]]) -> Tensor<Float> {
    Tensor(shape: [rows.count, rows.first?.count ?? 0], scalars: rows.flatMap { $0 })
  }

  func softmax(_ row: [Float]) -> [Double] {
    let e = row.map { exp(Double($0)) }
    let total = e.reduce(0, +)
    return e.map { $0 / total }
  }

  func kl(_ p: [Double], _ q: [Double]) -> Double {
    zip(p, q).reduce(0) { $0 + ($1.0 > 0 ? $1.0 * log($1.0 / $1.1) : 0) }
  }

  func testIdenticalOutputsAgreeFullyWithNoDivergenceAndInfiniteSQNR() throws {
    let rows: [[Float]] = [[1, -2, 0.5], [0, 0, 3], [7, 7, 7]]
    let result = try compare(rows, rows)
    XCTAssertEqual(result.positions, 3)
    XCTAssertEqual(result.agreement, 1)
    XCTAssertEqual(result.meanKL, 0, accuracy: 1e-12)
    XCTAssertEqual(result.p99KL, 0, accuracy: 1e-12)
    XCTAssertEqual(result.cosine, 1, accuracy: 1e-12)
    XCTAssertEqual(result.maxAbsError, 0)
    XCTAssertEqual(result.sqnrDB, .infinity)
  }

  func testEachFigureMatchesAHandComputation() throws {
    let reference: [[Float]] = [[1, 2], [3, 1]]
    let candidate: [[Float]] = [[1, 3], [1, 3]]
    let result = try compare(reference, candidate)
    // Argmax 1 = 1 for the first example, 0 ≠ 1 for the second.
    XCTAssertEqual(result.agreement, 0.5)
    let divergences = zip(reference, candidate).map { kl(softmax($0), softmax($1)) }
    XCTAssertEqual(result.meanKL, (divergences[0] + divergences[1]) / 2, accuracy: 1e-9)
    XCTAssertEqual(result.p99KL, divergences.max()!, accuracy: 1e-9, "nearest rank of 2 values at 99%: the larger")
    // cos = a·b / (|a||b|): (1 + 6) / (√5 √10) and (3 + 3) / (√10 √10).
    XCTAssertEqual(result.cosine, (7 / (5.0.squareRoot() * 10.0.squareRoot()) + 0.6) / 2, accuracy: 1e-9)
    XCTAssertEqual(result.maxAbsError, 2)
    // Signal 1 + 4 + 9 + 1, noise 0 + 1 + 4 + 4.
    XCTAssertEqual(result.sqnrDB, 10 * log10(15.0 / 9.0), accuracy: 1e-9)
  }

  func testBatchesAddUpToTheWholeSet() throws {
    let reference: [[Float]] = [[1, 2, 0], [3, 1, -1], [0, 0, 4], [2, 2, 1]]
    let candidate: [[Float]] = [[1, 3, 0], [1, 3, 2], [0, 1, 4], [2, 1, 1]]
    let whole = try compare(reference, candidate)
    var batched = OutputComparison()
    try batched.add(reference: matrix(Array(reference[0..<3])), candidate: matrix(Array(candidate[0..<3])))
    try batched.add(reference: matrix(Array(reference[3...])), candidate: matrix(Array(candidate[3...])))
    let parts = batched.result
    XCTAssertEqual(parts.positions, whole.positions)
    XCTAssertEqual(parts.agreement, whole.agreement)
    XCTAssertEqual(parts.meanKL, whole.meanKL, accuracy: 1e-12)
    XCTAssertEqual(parts.cosine, whole.cosine, accuracy: 1e-12)
    XCTAssertEqual(parts.sqnrDB, whole.sqnrDB, accuracy: 1e-12)
  }

  func testRowsThatAreProbabilitiesAreUsedAsTheyAre() throws {
    let result = try compare([[0.5, 0.5, 0]], [[0.25, 0.75, 0]])
    XCTAssertEqual(result.meanKL, 0.5 * log(0.5 / 0.25) + 0.5 * log(0.5 / 0.75), accuracy: 1e-7)
    XCTAssertNotEqual(
      result.meanKL, kl(softmax([0.5, 0.5, 0]), softmax([0.25, 0.75, 0])), accuracy: 1e-4,
      "a softmax of probabilities would give another value")
    // Logits that happen to be non-negative but do not sum to 1 still go through softmax.
    let logits = try compare([[2, 0, 1]], [[0, 2, 1]])
    XCTAssertEqual(logits.meanKL, kl(softmax([2, 0, 1]), softmax([0, 2, 1])), accuracy: 1e-9)
  }

  func testAZeroProbabilityWhereTheReferenceHasMassIsLargeButFinite() throws {
    let result = try compare([[0.5, 0.5]], [[1, 0]])
    XCTAssertTrue(result.meanKL.isFinite)
    XCTAssertGreaterThan(result.meanKL, 30, "log(0.5 / 1e-30) · 0.5 ≈ 34 nats")
  }

  func testHugeLogitsStayFinite() throws {
    let same = try compare([[1000, 0]], [[1000, 0]])
    XCTAssertEqual(same.meanKL, 0, accuracy: 1e-12)
    let swapped = try compare([[1000, 0]], [[0, 1000]])
    // p ≈ (1, 0), log p − log q ≈ (0 − (−1000)): KL ≈ 1000.
    XCTAssertEqual(swapped.meanKL, 1000, accuracy: 1e-6)
    XCTAssertEqual(swapped.agreement, 0)
  }

  func testNaNInTheCandidateCountsAsInfinitelyWrong() throws {
    let result = try compare([[1, 2], [3, 4]], [[1, 2], [.nan, 4]])
    XCTAssertEqual(result.maxAbsError, .infinity)
    XCTAssertEqual(result.meanKL, .infinity)
    XCTAssertEqual(result.p99KL, .infinity)
  }

  func testSequenceOutputsCompareEveryPositionAndCosinePerExample() throws {
    // One example, two time steps of two classes: [[1, 0], [0, 1]] against [[1, 0], [1, 0]].
    var comparison = OutputComparison()
    try comparison.add(
      reference: Tensor(shape: [1, 2, 2], scalars: [1, 0, 0, 1]),
      candidate: Tensor(shape: [1, 2, 2], scalars: [1, 0, 1, 0]))
    let result = comparison.result
    XCTAssertEqual(result.positions, 2)
    XCTAssertEqual(result.agreement, 0.5)
    // Flattened: (1,0,0,1)·(1,0,1,0) = 1, both of norm √2.
    XCTAssertEqual(result.cosine, 0.5, accuracy: 1e-12)
    // Both rows of the first step are one-hot probabilities: KL 0; the second is
    // (0, 1) against (1, 0): 1 · log(1 / 1e-30).
    XCTAssertEqual(result.meanKL, log(1e30) / 2, accuracy: 1e-6)
  }

  func testNearestRankPercentile() {
    XCTAssertEqual(OutputComparison.percentile((1...100).map(Double.init), 0.99), 99)
    XCTAssertEqual(OutputComparison.percentile((1...1000).map(Double.init), 0.99), 990)
    XCTAssertEqual(OutputComparison.percentile((1...1000).reversed().map(Double.init), 0.99), 990, "order-free")
    XCTAssertEqual(OutputComparison.percentile([5], 0.99), 5)
    XCTAssertEqual(OutputComparison.percentile([], 0.99), 0)
  }

  func testP99OverPositionsIgnoresTheWorstOnePercent() throws {
    // 100 positions: 98 identical, one with a small divergence, one with a large one.
    let reference = [[Float]](repeating: [0, 0], count: 100)
    var candidate = reference
    candidate[10] = [0, 1]
    candidate[20] = [0, 5]
    let result = try compare(reference, candidate)
    let small = kl(softmax([0, 0]), softmax([0, 1]))
    let large = kl(softmax([0, 0]), softmax([0, 5]))
    XCTAssertEqual(result.p99KL, small, accuracy: 1e-9, "the 99th of 100 sorted values")
    XCTAssertEqual(result.meanKL, (small + large) / 100, accuracy: 1e-9)
  }

  func testMismatchedShapesAndOutputCountsAreErrors() {
    var comparison = OutputComparison(output: 2)
    XCTAssertThrowsError(
      try comparison.add(reference: Tensor.zeros([2, 3]), candidate: Tensor.zeros([2, 4]))
    ) { error in
      XCTAssertEqual(error as? EvaluationError, .shapeMismatch(output: 2, reference: [2, 3], candidate: [2, 4]))
      XCTAssertTrue("\(error)".contains("output 2"), "\(error)")
    }
    var all: [OutputComparison] = []
    XCTAssertThrowsError(
      try all.add(reference: [Tensor.zeros([1, 2])], candidate: [Tensor.zeros([1, 2]), Tensor.zeros([1, 2])]))
  }

  func testNothingComparedReportsNoDifference() {
    let result = OutputComparison().result
    XCTAssertEqual(result.positions, 0)
    XCTAssertEqual(result.agreement, 1)
    XCTAssertEqual(result.sqnrDB, .infinity)
  }
}
