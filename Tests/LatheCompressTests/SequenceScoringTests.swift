import Foundation
import LatheTensor
import XCTest

@testable import LatheCompress

/// A pipeline step of a sequence model (an OCR recogniser's [N, T, classes] scores) on data
/// with label sequences is scored by greedy CTC decoding: exact-match rate and character error rate.
final class SequenceScoringTests: XCTestCase {
  /// Four examples of 5 time steps over 4 classes (blank 0), each step one-hot on the class it
  /// reads, through an identity Linear so the model's scores are its inputs.
  private func data(expected: [[Int]], blank: Int = 0) -> Dataset {
    let steps: [[Int]] = [
      [1, 1, 0, 2, 2],  // reads 1 2
      [3, 0, 3, 3, 0],  // reads 3 3
      [0, 0, 0, 0, 0],  // reads nothing
      [2, 1, 2, 0, 1],  // reads 2 1 2 1
    ]
    var scores = [Float](repeating: 0, count: 4 * 5 * 4)
    for (n, example) in steps.enumerated() { for (t, c) in example.enumerated() { scores[(n * 5 + t) * 4 + c] = 1 } }
    var set = Dataset(name: "lines", inputs: Tensor(shape: [4, 5, 4], scalars: scores), labels: nil, classCount: 0)
    set.sequenceLabels = expected
    set.ctcBlank = blank
    return set
  }

  private func identityModel() throws -> Model {
    var identity = [Float](repeating: 0, count: 16)
    for i in 0..<4 { identity[i * 5] = 1 }
    return try Model(
      architecture: "reader", inputShape: [5, 4], classCount: 4,
      sequence: [("head", Linear(weight: Parameter(Tensor(shape: [4, 4], scalars: identity)), bias: nil))])
  }

  private func measure(_ test: Dataset) throws -> StepMetrics {
    try ModelMeasurement.measure(
      identityModel(), name: "input", technique: "none", test: test,
      path: try temporaryDirectory(self).appendingPathComponent("reader.safetensors"), originalSize: nil,
      wallSeconds: 0, options: .init(latencySeconds: 0.001)
    ).0
  }

  func testExactMatchAndCharacterErrorRateAgainstTheLabelSequences() throws {
    // Decoded: [1 2], [3 3], [], [2 1 2 1]. Expected differ in the second (one substitution) and
    // the fourth (one deletion): 2 of 4 exact, 2 edits over 2 + 2 + 0 + 5 expected labels.
    let metrics = try measure(data(expected: [[1, 2], [3, 1], [], [2, 1, 2, 1, 1]]))
    XCTAssertEqual(metrics.accuracy, 0.5, accuracy: 1e-9)
    XCTAssertNil(metrics.scoredAgainst, "scored against the labels, not a reference")
    XCTAssertEqual(try XCTUnwrap(metrics.extra["character_error_rate"]), 2.0 / 9.0, accuracy: 1e-9)
  }

  func testTheDatasetsBlankIsTheOneDecodedAround() throws {
    // With class 3 as the blank, class 0 is a label: 1 1 0 2 2 reads 1 0 2, 3 0 3 3 0 reads 0 0
    // (the blank between them keeps the repeat), 0 0 0 0 0 reads 0 and 2 1 2 0 1 reads itself.
    let metrics = try measure(data(expected: [[1, 0, 2], [0, 0], [0], [2, 1, 2, 0, 1]], blank: 3))
    XCTAssertEqual(metrics.accuracy, 1, accuracy: 1e-9)
    XCTAssertEqual(metrics.extra["character_error_rate"], 0)
  }

  func testSequenceLabelsFollowASubset() {
    let set = data(expected: [[1], [2], [3], [4]])
    XCTAssertEqual(set.subset([3, 1]).sequenceLabels, [[4], [2]])
    XCTAssertEqual(set.slice(0..<0).sequenceLabels, [])
    XCTAssertEqual(set.subset([2]).ctcBlank, set.ctcBlank)
  }
}
