import LatheTensor
import XCTest

@testable import LatheIO

final class DatasetCatalogTests: XCTestCase {
  private let samples = repositoryRoot.appendingPathComponent("samples")

  func testBundledMNIST5k() throws {
    let split = try DatasetCatalog.load("mnist-5k", samplesDirectory: samples)
    try assertDigits(split, train: 4000, test: 1000, side: 28)
    // The inputs are the IDX pixels divided by 255, in file order.
    let raw = try IDX.read(
      from: samples.appendingPathComponent("datasets/mnist-5k/test-images-idx3-ubyte.gz"))
    XCTAssertEqual(split.test.inputs.scalars, raw.values.map { $0 / 255 })
  }

  func testBundledDigitsScaleBy16() throws {
    let split = try DatasetCatalog.load("digits", samplesDirectory: samples)
    try assertDigits(split, train: 1437, test: 360, side: 8)
    let raw = try IDX.read(
      from: samples.appendingPathComponent("datasets/digits/train-images-idx3-ubyte.gz"))
    XCTAssertEqual(raw.values.max(), 16)
    XCTAssertEqual(split.train.inputs.scalars, raw.values.map { $0 / 16 })
  }

  /// Loading the original CSV through the catalog must give exactly the bundled split: same
  /// examples, same order. This pins the Python converter's generator to the Swift one.
  func testOriginalCSVsGiveTheBundledSplits() throws {
    let candidates = [
      URL(fileURLWithPath: "/work/shared/datasets"),
      repositoryRoot.appendingPathComponent("../shared/datasets").standardizedFileURL,
    ]
    guard
      let directory = candidates.first(where: {
        FileManager.default.fileExists(atPath: $0.appendingPathComponent("mnist_5k.csv.gz").path)
      })
    else {
      throw XCTSkip("the reference CSVs (shared/datasets) are not on this machine")
    }
    for (csv, name) in [("mnist_5k.csv.gz", "mnist-5k"), ("digits.csv.gz", "digits")] {
      let fromCSV = try DatasetCatalog.load(
        directory.appendingPathComponent(csv).path, samplesDirectory: samples)
      let bundled = try DatasetCatalog.load(name, samplesDirectory: samples)
      XCTAssertEqual(fromCSV.test.labels, bundled.test.labels, csv)
      XCTAssertEqual(fromCSV.test.inputs, bundled.test.inputs, csv)
      XCTAssertEqual(fromCSV.train.labels, bundled.train.labels, csv)
      XCTAssertEqual(fromCSV.train.inputs, bundled.train.inputs, csv)
    }
  }

  func testMNISTStyleDirectoryWithT10kNamesAndMetadata() throws {
    let directory = try temporaryDirectory()
    let images: [UInt8] = [0, 51, 102, 255]
    try Data(IDX.encodeUInt8(shape: [1, 2, 2], values: images))
      .write(to: directory.appendingPathComponent("train-images-idx3-ubyte"))
    try Data(Gzip.compress(IDX.encodeUInt8(shape: [1], values: [3])))
      .write(to: directory.appendingPathComponent("train-labels-idx1-ubyte.gz"))
    try Data(IDX.encodeUInt8(shape: [2, 2, 2], values: images + images))
      .write(to: directory.appendingPathComponent("t10k-images-idx3-ubyte"))
    try Data(IDX.encodeUInt8(shape: [2], values: [1, 0]))
      .write(to: directory.appendingPathComponent("t10k-labels-idx1-ubyte"))

    let split = try DatasetCatalog.load(directory.path, samplesDirectory: samples)
    XCTAssertEqual(split.train.inputs.shape, [1, 1, 2, 2])
    XCTAssertEqual(split.train.inputs.scalars, [0, 0.2, 0.4, 1])
    XCTAssertEqual(split.test.labels, [1, 0])
    XCTAssertEqual(split.train.classCount, 4)
    XCTAssertEqual(split.train.name, directory.lastPathComponent)

    try Data(#"{"name": "tiny", "scale": 51}"#.utf8).write(
      to: directory.appendingPathComponent("dataset.json"))
    let scaled = try DatasetCatalog.load(directory.path, samplesDirectory: samples)
    XCTAssertEqual(scaled.train.inputs.scalars, [0, 1, 2, 5])
    XCTAssertEqual(scaled.test.name, "tiny")

    try Data(#"{"scale": "big"}"#.utf8).write(to: directory.appendingPathComponent("dataset.json"))
    assertThrows(
      try DatasetCatalog.load(directory.path, samplesDirectory: samples),
      mentions: ["dataset.json", "\"scale\"", "positive number"])
  }

  func testDirectoryErrors() throws {
    let directory = try temporaryDirectory()
    assertThrows(
      try DatasetCatalog.load(directory.path, samplesDirectory: samples),
      mentions: ["train-images-idx3-ubyte", "no such file"])
    try Data(IDX.encodeUInt8(shape: [2, 1, 1], values: [1, 2]))
      .write(to: directory.appendingPathComponent("train-images-idx3-ubyte"))
    try Data(IDX.encodeUInt8(shape: [3], values: [1, 2, 3]))
      .write(to: directory.appendingPathComponent("train-labels-idx1-ubyte"))
    assertThrows(
      try DatasetCatalog.load(directory.path, samplesDirectory: samples),
      mentions: ["train-labels-idx1-ubyte", "[2], one label per image", "[3]"])
  }

  func testCSVSplitShapeAndScale() throws {
    let directory = try temporaryDirectory()
    // 10 rows of 3 features (not a square) with values up to 12: scale 16, 2 test rows.
    let rows = (0..<10).map { "\($0),\($0 + 1),12,\($0 % 3)" }
    let url = directory.appendingPathComponent("small.csv")
    try Data(("x,y,z,label\n" + rows.joined(separator: "\n")).utf8).write(to: url)
    let split = try DatasetCatalog.load(url.path, samplesDirectory: samples)
    XCTAssertEqual(split.train.inputs.shape, [8, 3])
    XCTAssertEqual(split.test.inputs.shape, [2, 3])
    XCTAssertEqual(split.train.name, "small")
    XCTAssertEqual(split.train.classCount, 3)

    // Recompute the documented split by hand: shuffle 0..<10 with seed 0, last 2 are test.
    var order = Array(0..<10)
    var generator = SeededGenerator(seed: 0)
    generator.shuffle(&order)
    XCTAssertEqual(split.test.labels, order[8...].map { $0 % 3 })
    XCTAssertEqual(
      split.test.inputs.scalars, order[8...].flatMap { [Float($0) / 16, Float($0 + 1) / 16, 0.75] })
    XCTAssertEqual(split.train.labels, order[..<8].map { $0 % 3 })
    XCTAssertEqual((0..<8).map { split.train.inputs[$0, 0] * 16 }, order[..<8].map(Float.init))
  }

  func testCSVTestCountIsTwentyPercentRoundedUp() {
    XCTAssertEqual(DatasetCatalog.csvTestCount(rowCount: 5000), 1000)
    XCTAssertEqual(DatasetCatalog.csvTestCount(rowCount: 1797), 360)
    XCTAssertEqual(DatasetCatalog.csvTestCount(rowCount: 2), 1)
  }

  func testUnknownNameListsTheBundledDatasets() {
    assertThrows(
      try DatasetCatalog.load("cifar-10", samplesDirectory: samples),
      mentions: ["cifar-10", "mnist-5k", "digits"])
  }

  func testSamplesDirectoryLocation() throws {
    XCTAssertEqual(
      SamplesDirectory.locate(
        environment: ["LATHE_SAMPLES": "/opt/lathe/samples"], executable: nil, sourceFile: "/x")?
        .path, "/opt/lathe/samples")
    let tree = try temporaryDirectory()
    let binDirectory = tree.appendingPathComponent("build/debug")
    try FileManager.default.createDirectory(at: binDirectory, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(
      at: tree.appendingPathComponent("samples/datasets"), withIntermediateDirectories: true)
    XCTAssertEqual(
      SamplesDirectory.locate(
        environment: [:], executable: binDirectory.appendingPathComponent("lathe"), sourceFile: "/")?
        .standardizedFileURL.path, tree.appendingPathComponent("samples").standardizedFileURL.path)
    // Without either, the search falls back to the source file's checkout: this repository.
    XCTAssertEqual(
      SamplesDirectory.locate(
        environment: [:], executable: URL(fileURLWithPath: "/"), sourceFile: #filePath)?
        .standardizedFileURL.path, samples.standardizedFileURL.path)
    XCTAssertNotNil(SamplesDirectory.locate())
  }

  private func assertDigits(_ split: DatasetSplit, train: Int, test: Int, side: Int) throws {
    XCTAssertEqual(split.train.inputs.shape, [train, 1, side, side])
    XCTAssertEqual(split.test.inputs.shape, [test, 1, side, side])
    XCTAssertEqual(split.train.count, train)
    XCTAssertEqual(split.test.count, test)
    XCTAssertEqual(split.train.classCount, 10)
    for part in [split.train, split.test] {
      XCTAssertEqual(Set(part.labels), Set(0..<10))
      let pixels = part.inputs.scalars
      XCTAssertEqual(pixels.min(), 0)
      XCTAssertEqual(pixels.max(), 1)
    }
  }
}
