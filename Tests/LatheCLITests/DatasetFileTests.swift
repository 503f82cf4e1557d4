import Foundation
import LatheIO
import LatheTensor
import XCTest

/// `--dataset` with the files users bring: the bundled digits test split saved as an `.npz`
/// and as an ImageFolder of PNGs must score the sample model as the bundled set does, and an
/// `.npy` (no labels) must be refused with the reason.
extension CommandLineTests {
  private func evalAccuracy(_ dataset: String) throws -> Double {
    let outcome = try lathe("eval", "samples/models/digits-mlp.safetensors", "--dataset", dataset, "--json")
    XCTAssertEqual(outcome.status, 0, outcome.stderr)
    XCTAssertEqual(outcome.json["samples"] as? Int, 360)
    return try XCTUnwrap(outcome.json["accuracy"] as? Double)
  }

  func testNumpyAndImageFolderCopiesOfDigitsScoreTheSame() throws {
    let digits = try DatasetCatalog.load("digits", samplesDirectory: Self.packageRoot.appendingPathComponent("samples"))
    let test = digits.test
    let npz = scratch.appendingPathComponent("digits.npz")
    try NumpyArchive.write(
      [
        "x": NumpyArray(shape: test.inputs.shape, values: test.inputs.scalars),
        "y": NumpyArray(dtype: .int64, shape: [test.count], values: test.labels.map(Float.init)),
      ], to: npz, compressed: true)
    let bundled = try evalAccuracy("digits")
    XCTAssertEqual(try evalAccuracy(npz.path), bundled)

    // Pixels in 0-1 stored as 8-bit PNGs lose a little precision: the score may move slightly.
    let folder = scratch.appendingPathComponent("digits-images")
    let per = test.sampleShape.reduce(1, *)
    let values = test.inputs.scalars
    for index in 0..<test.count {
      let pixels = values[(index * per)..<((index + 1) * per)].map { UInt8(($0 * 255).rounded()) }
      let url = folder.appendingPathComponent("digit\(test.labels[index])/\(index).png")
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      let image = DecodedImage(width: 8, height: 8, channels: 1, pixels: pixels)
      try Data(try ImageCodec.encode(image, as: .png)).write(to: url)
    }
    let settings = #"{"resize": 8, "channels": "grayscale", "mean": [0], "std": [1]}"#
    try Data(settings.utf8).write(to: folder.appendingPathComponent("dataset.json"))
    XCTAssertEqual(try evalAccuracy(folder.path), bundled, accuracy: 0.01)

    let npy = scratch.appendingPathComponent("digits-x.npy")
    try NumpyArray(shape: test.inputs.shape, values: values).write(to: npy)
    let unlabelled = try lathe("eval", "samples/models/digits-mlp.safetensors", "--dataset", npy.path)
    XCTAssertNotEqual(unlabelled.status, 0)
    XCTAssertTrue(unlabelled.stderr.contains("digits-x has no labels"), unlabelled.stderr)
  }
}
