import Foundation
import LatheTensor
import XCTest

@testable import LatheIO

/// ImageFolder datasets: class indices from sorted folder names, splits, the resize, crop and
/// normalisation settings, and the errors for what users get wrong.
final class ImageFolderTests: XCTestCase {
  private func solid(_ width: Int, _ height: Int, _ rgb: [UInt8]) -> DecodedImage {
    DecodedImage(width: width, height: height, channels: 3, pixels: (0..<(width * height)).flatMap { _ in rgb })
  }

  private func save(_ image: DecodedImage, _ url: URL, as format: ImageCodec.Format = .png) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data(try ImageCodec.encode(image, as: format, quality: 100)).write(to: url)
  }

  private func writeJSON(_ text: String, in folder: URL) throws {
    try Data(text.utf8).write(to: folder.appendingPathComponent("dataset.json"))
  }

  func testClassesAreSortedFolderNames() throws {
    let root = try temporaryDirectory().appendingPathComponent("pets")
    try save(solid(6, 4, [255, 0, 0]), root.appendingPathComponent("dog/1.png"))
    try save(solid(4, 4, [0, 255, 0]), root.appendingPathComponent("cat/b.png"))
    try save(solid(5, 5, [0, 0, 255]), root.appendingPathComponent("cat/nested/a.jpg"), as: .jpeg)
    try FileManager.default.createDirectory(
      at: root.appendingPathComponent(".cache"), withIntermediateDirectories: true)
    try Data("not an image".utf8).write(to: root.appendingPathComponent("dog/README.txt"))
    try writeJSON(#"{"resize": 4, "mean": [0, 0, 0], "std": [1, 1, 1]}"#, in: root)

    let split = try DatasetCatalog.load(root.path, samplesDirectory: root)
    XCTAssertEqual(split.test.name, "pets")
    XCTAssertEqual(split.test.classCount, 2)
    // cat (0): b.png, nested/a.jpg in path order; dog (1): 1.png.
    XCTAssertEqual(split.test.labels, [0, 0, 1])
    XCTAssertEqual(split.test.inputs.shape, [3, 3, 4, 4])
    XCTAssertEqual(split.train.count, 0)
    XCTAssertEqual(split.train.sampleShape, [3, 4, 4])
    let values = split.test.inputs.scalars
    let plane = 16
    // cat/b.png is pure green: a flat image stays flat through resampling.
    XCTAssertEqual(Array(values[0..<plane]), [Float](repeating: 0, count: plane))
    for v in values[plane..<(2 * plane)] { XCTAssertEqual(v, 1, accuracy: 1e-5) }
    // cat/nested/a.jpg is (nearly) pure blue after JPEG.
    for v in values[(5 * plane)..<(6 * plane)] { XCTAssertEqual(v, 1, accuracy: 0.03) }
    // dog/1.png is red.
    for v in values[(6 * plane)..<(7 * plane)] { XCTAssertEqual(v, 1, accuracy: 1e-5) }
  }

  func testTrainAndValSplitsShareClassIndices() throws {
    let root = try temporaryDirectory()
    try save(solid(2, 2, [10, 10, 10]), root.appendingPathComponent("train/ant/a.png"))
    try save(solid(2, 2, [20, 20, 20]), root.appendingPathComponent("train/bee/a.png"))
    // val has no ant images: bee must still be class 1.
    try save(solid(2, 2, [30, 30, 30]), root.appendingPathComponent("val/bee/a.png"))
    try writeJSON(#"{"resize": 2, "channels": "grayscale", "mean": [0.5], "std": [0.25]}"#, in: root)
    let split = try DatasetCatalog.loadImageFolder(root)
    XCTAssertEqual(split.train.labels, [0, 1])
    XCTAssertEqual(split.test.labels, [1])
    XCTAssertEqual(split.test.classCount, 2)
    XCTAssertEqual(split.test.inputs.shape, [1, 1, 2, 2])
    // Gray 30 → (30/255 - 0.5) / 0.25.
    for v in split.test.inputs.scalars { XCTAssertEqual(v, (30 / 255 - 0.5) / 0.25, accuracy: 1e-5) }
  }

  func testDefaultsAreTheImageNetTransform() throws {
    let root = try temporaryDirectory()
    // 300x400: the shorter side becomes 256 (so 341x256... here 256x341), then a 224 crop.
    try save(solid(300, 400, [255, 255, 255]), root.appendingPathComponent("only/a.png"))
    let split = try DatasetCatalog.loadImageFolder(root)
    XCTAssertEqual(split.test.inputs.shape, [1, 3, 224, 224])
    let first = split.test.inputs.scalars
    XCTAssertEqual(first[0], (1 - 0.485) / 0.229, accuracy: 1e-4)
    XCTAssertEqual(first[224 * 224 * 2], (1 - 0.406) / 0.225, accuracy: 1e-4)
  }

  func testDownscalingAveragesLikeAnAntialiasedBilinearFilter() {
    // A 4x4 gray image, each row 0, 100, 200, 40, halved to 2x2. Output 0 is centred on input
    // 1.0 with support 2: taps 0, 1, 2 weigh 0.75, 0.75, 0.25 before normalising.
    let image = DecodedImage(width: 4, height: 4, channels: 1, pixels: Array([0, 100, 200, 40].repeated(4)))
    let out = ImageResample.planar(image, shorter: 2, cropHeight: 2, cropWidth: 2)
    let left: Float = (0 * 0.75 + 100 * 0.75 + 200 * 0.25) / 1.75
    let right: Float = (100 * 0.25 + 200 * 0.75 + 40 * 0.75) / 1.75
    for (got, wanted) in zip(out, [left, right, left, right]) { XCTAssertEqual(got, wanted, accuracy: 1e-3) }
  }

  func testMatchesPillowOnAnUnevenShrink() {
    // PIL: Image.fromarray(np.arange(35).reshape(5, 7) * 7, mode "F").resize((2, 2), BILINEAR)
    // gives 60.069767, 79.93023, 158.06976, 177.93024 (resizing 7x5 by its shorter side to 2
    // gives 2x2, since 2 * 7 / 5 truncates to 2).
    let image = DecodedImage(width: 7, height: 5, channels: 1, pixels: (0..<35).map { UInt8($0 * 7) })
    let out = ImageResample.planar(image, shorter: 2, cropHeight: 2, cropWidth: 2)
    for (got, wanted) in zip(out, [60.069767, 79.93023, 158.06976, 177.93024] as [Float]) {
      XCTAssertEqual(got, wanted, accuracy: 1e-3)
    }
  }

  func testCentreCropTakesTheMiddle() {
    // 5 columns 0, 1, 2, 3, 4 (times 10); no resize, a 1x3 crop keeps columns 1...3.
    let image = DecodedImage(width: 5, height: 1, channels: 1, pixels: [0, 10, 20, 30, 40])
    XCTAssertEqual(ImageResample.planar(image, shorter: 0, cropHeight: 1, cropWidth: 3), [10, 20, 30])
  }

  func testErrorsNameTheFile() throws {
    let root = try temporaryDirectory()
    try save(solid(4, 4, [1, 2, 3]), root.appendingPathComponent("a/good.png"))
    try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0]).write(to: root.appendingPathComponent("a/bad.png"))
    try writeJSON(#"{"resize": 4}"#, in: root)
    assertThrows(try DatasetCatalog.loadImageFolder(root), mentions: ["bad.png", "PNG data"])

    let small = try temporaryDirectory()
    try save(solid(4, 4, [1, 2, 3]), small.appendingPathComponent("a/tiny.png"))
    try writeJSON(#"{"resize": 0, "crop": [8, 2]}"#, in: small)
    assertThrows(try DatasetCatalog.loadImageFolder(small), mentions: ["tiny.png", "image size", "2x8 crop"])

    let empty = try temporaryDirectory()
    try FileManager.default.createDirectory(at: empty.appendingPathComponent("a"), withIntermediateDirectories: true)
    assertThrows(try DatasetCatalog.loadImageFolder(empty), mentions: ["class folders (a)", "PNG or JPEG"])

    for (json, mentions) in [
      (#"{"crop": -3}"#, ["\"crop\"", "1 to 65536", "-3"]),
      (#"{"channels": "bgr"}"#, ["\"channels\"", "grayscale"]),
      (#"{"std": [1, 0, 1]}"#, ["\"std\"", "3 positive numbers"]),
      (#"{"mean": [0.5]}"#, ["\"mean\"", "3 numbers"]),
      (#"{"resize": 0}"#, ["\"resize\"", "crop size too"]),
    ] {
      try writeJSON(json, in: small)
      assertThrows(try DatasetCatalog.loadImageFolder(small), mentions: ["dataset.json"] + mentions)
    }
  }
}

extension Array {
  fileprivate func repeated(_ times: Int) -> [Element] { (0..<times).flatMap { _ in self } }
}
