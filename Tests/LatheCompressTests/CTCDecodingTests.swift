import LatheTensor
import XCTest

@testable import LatheCompress

final class CTCDecodingTests: XCTestCase {
  /// [N, T, classes] logits whose argmax at each time step is `paths[n][t]`.
  func scores(_ paths: [[Int]], classes: Int) -> Tensor<Float> {
    let steps = paths.first?.count ?? 0
    var values = [Float](repeating: -1, count: paths.count * steps * classes)
    for (n, path) in paths.enumerated() {
      for (t, label) in path.enumerated() { values[(n * steps + t) * classes + label] = 2 }
    }
    return Tensor(shape: [paths.count, steps, classes], scalars: values)
  }

  func testGreedyDecodingCollapsesRepeatsThenDropsBlanks() throws {
    let decoded = try CTCDecoding.greedy(
      scores([[1, 1, 0, 1], [1, 1, 1, 1], [0, 0, 0, 0], [2, 0, 2, 2], [0, 3, 3, 0]], classes: 4))
    XCTAssertEqual(decoded, [[1, 1], [1], [], [2, 2], [3]])
  }

  func testTheBlankIndexIsConfigurable() throws {
    let paths = [[3, 1, 3, 1], [0, 1, 0, 0]]
    XCTAssertEqual(try CTCDecoding.greedy(scores(paths, classes: 4), blank: 3), [[1, 1], [0, 1, 0]])
    XCTAssertEqual(try CTCDecoding.greedy(scores(paths, classes: 4), blank: 0), [[3, 1, 3, 1], [1]])
  }

  func testNoTimeStepsDecodeToEmptySequences() throws {
    XCTAssertEqual(try CTCDecoding.greedy(Tensor<Float>.zeros([2, 0, 5])), [[], []])
  }

  func testBadScoresAndBlanksAreErrors() {
    XCTAssertThrowsError(try CTCDecoding.greedy(Tensor<Float>.zeros([2, 5]))) {
      XCTAssertEqual($0 as? EvaluationError, .notSequenceScores(shape: [2, 5]))
    }
    XCTAssertThrowsError(try CTCDecoding.greedy(Tensor<Float>.zeros([1, 2, 3]), blank: 3)) {
      XCTAssertEqual($0 as? EvaluationError, .blankOutOfRange(blank: 3, classes: 3))
    }
    XCTAssertThrowsError(try CTCDecoding.greedy(Tensor<Float>.zeros([1, 2, 3]), blank: -1))
  }

  func codes(_ text: String) -> [Int] { text.unicodeScalars.map { Int($0.value) } }

  func testEditDistanceOnKnownPairs() {
    XCTAssertEqual(CTCDecoding.editDistance(codes("kitten"), codes("sitting")), 3)
    XCTAssertEqual(CTCDecoding.editDistance(codes("sitting"), codes("kitten")), 3)
    XCTAssertEqual(CTCDecoding.editDistance(codes("flaw"), codes("lawn")), 2)
    XCTAssertEqual(CTCDecoding.editDistance(codes("intention"), codes("execution")), 5)
    XCTAssertEqual(CTCDecoding.editDistance([], codes("abc")), 3)
    XCTAssertEqual(CTCDecoding.editDistance(codes("abc"), []), 3)
    XCTAssertEqual(CTCDecoding.editDistance(codes("same"), codes("same")), 0)
    XCTAssertEqual(CTCDecoding.editDistance([], []), 0)
  }

  func testExactMatchAndCharacterErrorRate() throws {
    var score = SequenceScore()
    try score.add(decoded: [[1, 2, 3], [4]], expected: [[1, 2, 3], [4, 5]])
    try score.add(decoded: [[7, 8]], expected: [[8, 7]])
    XCTAssertEqual(score.sequences, 3)
    XCTAssertEqual(score.exactMatchRate, 1.0 / 3)
    // 0 + 1 (a deletion) + 2 (two substitutions) edits over 3 + 2 + 2 labels.
    XCTAssertEqual(score.edits, 3)
    XCTAssertEqual(score.characterErrorRate, 3.0 / 7)
  }

  func testEmptyExpectedSequences() throws {
    var none = SequenceScore()
    try none.add(decoded: [[]], expected: [[]])
    XCTAssertEqual(none.characterErrorRate, 0)
    XCTAssertEqual(none.exactMatchRate, 1)
    var inserted = SequenceScore()
    try inserted.add(decoded: [[1]], expected: [[]])
    XCTAssertEqual(inserted.characterErrorRate, .infinity)
    XCTAssertEqual(inserted.exactMatchRate, 0)
  }

  func testMismatchedCountsAreErrors() {
    var score = SequenceScore()
    XCTAssertThrowsError(try score.add(decoded: [[1]], expected: [[1], [2]])) {
      XCTAssertEqual($0 as? EvaluationError, .labelCountMismatch(labels: 2, outputs: 1))
    }
  }
}
