import LatheTensor
import XCTest

@testable import LatheIO

/// Damaged files must produce errors, never crashes: every reader gets thousands of randomly
/// corrupted and truncated copies of a valid file. A trap here fails the whole test run.
final class RobustnessTests: XCTestCase {
  func testCorruptedSafetensorsNeverCrash() throws {
    let valid = try SafetensorsFile(
      tensors: [
        ("w", .float32(Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]))),
        ("q", .int8(Tensor(shape: [3], scalars: [-1, 0, 1]))),
      ],
      metadata: ["k": "v"]
    ).encode()
    exercise(valid) { _ = try? SafetensorsFile.decode($0, file: "fuzz.safetensors") }
  }

  func testCorruptedIDXNeverCrash() {
    let valid = IDX.encodeUInt8(shape: [3, 2, 2], values: Array(0..<12))
    exercise(valid) { _ = try? IDX.decode($0, file: "fuzz.idx") }
  }

  func testCorruptedGzipNeverCrash() {
    let valid = Gzip.compress(Array(String(repeating: "1,2,3,0\n", count: 200).utf8))
    exercise(valid) { _ = try? Gzip.decompress($0, file: "fuzz.gz") }
  }

  func testCorruptedCSVNeverCrash() {
    let valid = Array("a,b,label\n1,2,0\n3.5,4,1\r\n\n5,6,2\n".utf8)
    exercise(valid) { _ = try? CSVDataset.decode($0, file: "fuzz.csv") }
  }

  func testCorruptedNumpyFilesNeverCrash() throws {
    let x = NumpyArray(dtype: .int16, shape: [2, 3], values: [1, -2, 3, -4, 5, -6])
    exercise(try x.encoded()) { _ = try? NumpyArray.decode($0, file: "fuzz.npy") }
    for compressed in [false, true] {
      let npz = try NumpyArchive.encode(
        ["x": x, "y": NumpyArray(dtype: .uint8, shape: [2], values: [1, 0])], compressed: compressed)
      exercise(npz) { _ = try? NumpyArchive.decode($0, file: "fuzz.npz") }
    }
  }

  /// fuzz-npy found a zip member named "x.np\n" echoed into a two-line message.
  func testNamesFromNumpyFilesAreEscapedInErrors() throws {
    let zip = try ZipArchive.encode([ZipArchive.Member(name: "x.np\n", bytes: [1])], compressed: false)
    assertThrows(try NumpyArchive.decode(zip, file: "n.npz"), mentions: ["\"x.np\\n\""])
    let header = Array("{'descr': '<f4\n', 'fortran_order': False, 'shape': (), }\n".utf8)
    let npy = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count), 0] + header
    assertThrows(try NumpyArray.decode(npy, file: "d.npy"), mentions: ["'<f4\\n'"])
    for bytes in [zip, npy] {
      do {
        _ = try NumpyArchive.decode(bytes, file: "f")
        _ = try NumpyArray.decode(bytes, file: "f")
      } catch {
        XCTAssertFalse("\(error)".contains("\n"), "\(error)")
      }
    }
  }

  func testCorruptedImagesNeverCrash() throws {
    let image = DecodedImage(width: 6, height: 5, channels: 3, pixels: (0..<90).map { UInt8($0 * 2) })
    for format in [ImageCodec.Format.png, .jpeg] {
      exercise(try ImageCodec.encode(image, as: format)) { _ = try? ImageCodec.decode($0, file: "fuzz.img") }
    }
  }

  func testDeeplyNestedSafetensorsHeaderIsAnError() {
    let header = Array(String(repeating: "[", count: 100_000).utf8)
    let length = UInt64(header.count)
    let bytes = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + header
    assertThrows(
      try SafetensorsFile.decode(bytes, file: "deep.safetensors"), mentions: ["deep.safetensors"])
  }

  /// Runs `body` on every truncation of `valid` and on 2000 copies with 1-4 random bytes changed.
  private func exercise(_ valid: [UInt8], _ body: ([UInt8]) -> Void) {
    for length in 0..<valid.count { body(Array(valid.prefix(length))) }
    var generator = SeededGenerator(seed: 7)
    for _ in 0..<2000 {
      var bytes = valid
      for _ in 0...(generator.next() % 4) {
        bytes[Int(generator.next() % UInt64(bytes.count))] = UInt8(
          truncatingIfNeeded: generator.next())
      }
      body(bytes)
    }
  }
}
