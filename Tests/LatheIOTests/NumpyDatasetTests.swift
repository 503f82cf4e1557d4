import Foundation
import LatheTensor
import XCTest

@testable import LatheIO

/// `--dataset` from `.npy` and `.npz` files: which arrays become inputs, labels and splits.
final class NumpyDatasetTests: XCTestCase {
  private func load(_ arrays: [String: NumpyArray], name: String = "set.npz") throws -> DatasetSplit {
    let url = try temporaryDirectory().appendingPathComponent(name)
    try NumpyArchive.write(arrays, to: url, compressed: true)
    return try DatasetCatalog.load(url.path, samplesDirectory: url)
  }

  func testXAndYAreTheTestSplit() throws {
    let split = try load([
      "x": NumpyArray(dtype: .uint8, shape: [3, 2], values: [1, 2, 3, 4, 5, 6]),
      "y": NumpyArray(dtype: .int64, shape: [3], values: [2, 0, 1]),
    ])
    XCTAssertEqual(split.test.name, "set")
    XCTAssertEqual(split.test.inputs.shape, [3, 2])
    // Values as saved, not rescaled.
    XCTAssertEqual(split.test.inputs.scalars, [1, 2, 3, 4, 5, 6])
    XCTAssertEqual(split.test.labels, [2, 0, 1])
    XCTAssertEqual(split.test.classCount, 3)
    XCTAssertTrue(split.test.namedInputs.isEmpty)
    XCTAssertEqual(split.train.count, 0)
    XCTAssertTrue(split.train.isLabelled)
    XCTAssertEqual(split.train.sampleShape, [2])
  }

  func testSplitKeys() throws {
    let split = try load([
      "x_train": NumpyArray(shape: [2, 1, 2, 2], values: .init(repeating: 0.5, count: 8)),
      "y_train": NumpyArray(dtype: .uint8, shape: [2], values: [0, 4]),
      "x_test": NumpyArray(shape: [1, 1, 2, 2], values: [1, 2, 3, 4]),
      "y_test": NumpyArray(dtype: .uint8, shape: [1], values: [1]),
    ])
    XCTAssertEqual(split.train.labels, [0, 4])
    XCTAssertEqual(split.test.labels, [1])
    XCTAssertEqual(split.test.classCount, 5)
    XCTAssertEqual(split.train.classCount, 5)
    XCTAssertEqual(split.test.inputs.shape, [1, 1, 2, 2])
  }

  func testLabelFreeMultiInputSplitByItsSuffixes() throws {
    let split = try load([
      "input_ids_train": NumpyArray(dtype: .int64, shape: [2, 3], values: [1, 2, 3, 4, 5, 6]),
      "attention_mask_train": NumpyArray(dtype: .int64, shape: [2, 3], values: [1, 1, 0, 1, 1, 1]),
      "input_ids_test": NumpyArray(dtype: .int64, shape: [1, 3], values: [7, 8, 9]),
      "attention_mask_test": NumpyArray(dtype: .int64, shape: [1, 3], values: [1, 0, 0]),
    ])
    XCTAssertEqual(split.train.count, 2)
    XCTAssertEqual(split.test.count, 1)
    XCTAssertFalse(split.test.isLabelled)
    XCTAssertEqual(split.train.namedInputs.keys.sorted(), ["attention_mask", "input_ids"])
    XCTAssertEqual(split.test.namedInputs["attention_mask"]?.scalars, [1, 0, 0])
    // One key without a suffix keeps the whole file as the test split, keys as written.
    let whole = try load([
      "input_ids_train": NumpyArray(dtype: .int64, shape: [1, 3], values: [1, 2, 3]),
      "attention_mask": NumpyArray(dtype: .int64, shape: [1, 3], values: [1, 1, 1]),
    ])
    XCTAssertEqual(whole.train.count, 0)
    XCTAssertEqual(whole.test.namedInputs.keys.sorted(), ["attention_mask", "input_ids_train"])
  }

  func testNamedInputsForMultiInputModels() throws {
    // The stored fixture numpy wrote: input_ids int32 [3, 2], mask bool [3, 2], y uint8 [3].
    let url = repositoryRoot.appendingPathComponent("Tests/LatheIOTests/Fixtures/numpy-savez.npz")
    let test = try DatasetCatalog.load(url.path, samplesDirectory: url).test
    XCTAssertEqual(test.namedInputs.keys.sorted(), ["input_ids", "mask"])
    XCTAssertEqual(test.namedInputs["mask"]?.scalars, [1, 0, 1, 1, 0, 0])
    XCTAssertEqual(test.inputs.scalars, [1, 2, 3, 4, 5, 6])
    XCTAssertEqual(test.labels, [2, 0, 1])
    XCTAssertEqual(test.subset([1]).namedInputs["mask"]?.scalars, [1, 1])
  }

  func testNpyIsInputsWithoutLabels() throws {
    let url = try temporaryDirectory().appendingPathComponent("features.npy")
    try NumpyArray(dtype: .float64, shape: [4], values: [1, 2, 3, 4]).write(to: url)
    let split = try DatasetCatalog.load(url.path, samplesDirectory: url)
    XCTAssertFalse(split.test.isLabelled)
    XCTAssertEqual(split.test.count, 4)
    XCTAssertEqual(split.test.inputs.shape, [4, 1])
    XCTAssertEqual(split.test.labels, [])
    XCTAssertEqual(split.train.count, 0)
    XCTAssertFalse(split.train.isLabelled)
  }

  func testMistakesAreNamed() throws {
    let x = NumpyArray(shape: [2, 2], values: [0, 1, 2, 3])
    assertThrows(
      try load(["x": x, "y": NumpyArray(shape: [3], values: [0, 1, 0])]), mentions: ["set.npz", "\"y\"", "[2]"])
    assertThrows(
      try load(["x": x, "y": NumpyArray(shape: [2], values: [0, 1.5])]), mentions: ["array y", "label 1", "integer"])
    assertThrows(
      try load(["x": x, "mask": NumpyArray(shape: [3, 1], values: [0, 0, 0])]),
      mentions: ["\"mask\"", "2 examples, like \"x\""])
    assertThrows(try load(["y": NumpyArray(shape: [1], values: [0])]), mentions: ["input array", "only y"])
    assertThrows(try load(["x": NumpyArray(shape: [], values: [1])]), mentions: ["\"x\"", "0-d"])
    assertThrows(try load(["x_test": x, "other": x]), mentions: ["\"other\"", "NAME_train or NAME_test"])
    assertThrows(
      try load(["x_test": x, "x_train": NumpyArray(shape: [1, 3], values: [0, 0, 0])]),
      mentions: ["train arrays", "[N] + [2]", "[N] + [3]"])
  }

  func testLabelSequencesPaddedWithMinusOneAndTheBlank() throws {
    let x = NumpyArray(shape: [3, 2], values: [0, 1, 2, 3, 4, 5])
    let y = NumpyArray(dtype: .int64, shape: [3, 3], values: [4, 2, -1, -1, -1, -1, 1, 2, 3])
    let split = try load(["x": x, "y": y, "ctc_blank": NumpyArray(dtype: .int64, shape: [], values: [7])])
    XCTAssertEqual(split.test.sequenceLabels, [[4, 2], [], [1, 2, 3]])
    XCTAssertEqual(split.test.ctcBlank, 7)
    XCTAssertFalse(split.test.isLabelled, "label sequences are not class labels")
    XCTAssertEqual(split.test.inputs.shape, [3, 2], "ctc_blank is not an input")
    XCTAssertNil(try load(["x": x]).test.sequenceLabels)
    XCTAssertEqual(try load(["x": x]).test.ctcBlank, 0)
    // A split file: both parts take the blank.
    let both = try load([
      "x_train": x, "y_train": y, "x_test": x, "y_test": y, "ctc_blank": NumpyArray(shape: [1], values: [3]),
    ])
    XCTAssertEqual(both.train.sequenceLabels?.count, 3)
    XCTAssertEqual([both.train.ctcBlank, both.test.ctcBlank], [3, 3])
  }

  func testBadLabelSequencesAreNamed() throws {
    let x = NumpyArray(shape: [2, 2], values: [0, 1, 2, 3])
    assertThrows(
      try load(["x": x, "y": NumpyArray(shape: [2, 3], values: [1, -1, 2, 0, 0, 0])]),
      mentions: ["set.npz", "array \"y\", row 0, column 2", "-1 after the first -1", "2.0"])
    assertThrows(
      try load(["x": x, "y": NumpyArray(shape: [2, 2], values: [1, 0.5, 0, 0])]),
      mentions: ["row 0", "integer class label"])
    assertThrows(
      try load(["x": x, "ctc_blank": NumpyArray(shape: [2], values: [0, 1])]), mentions: ["\"ctc_blank\"", "shape [2]"])
    assertThrows(
      try load(["x": x, "ctc_blank": NumpyArray(shape: [], values: [-2])]), mentions: ["\"ctc_blank\"", "-2"])
  }
}
