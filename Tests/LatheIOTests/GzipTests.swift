import XCTest

@testable import LatheIO

final class GzipTests: XCTestCase {
  func testRoundTripKeepsBytes() throws {
    var generator = SystemRandomNumberGenerator()
    // Compressible text followed by incompressible noise, larger than one 64 KiB output chunk.
    let text = Array(String(repeating: "lathe turns models ", count: 20_000).utf8)
    let noise = (0..<100_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
    for data in [[], [42], text, noise, text + noise] {
      let compressed = Gzip.compress(data)
      XCTAssertTrue(Gzip.isGzipped(compressed))
      XCTAssertEqual(try Gzip.decompress(compressed, file: "x.gz"), data)
    }
  }

  func testCompressionIsReproducibleAndShrinksText() {
    let text = Array(String(repeating: "0,0,0,255,", count: 10_000).utf8)
    let once = Gzip.compress(text)
    XCTAssertEqual(once, Gzip.compress(text))
    XCTAssertLessThan(once.count, text.count / 10)
    // Bytes 4-7 of a gzip header are the modification time: zero keeps output reproducible.
    XCTAssertEqual(Array(once[4..<8]), [0, 0, 0, 0])
  }

  func testConcatenatedMembersDecompressToConcatenation() throws {
    let a = Array("first ".utf8)
    let b = Array("second".utf8)
    XCTAssertEqual(try Gzip.decompress(Gzip.compress(a) + Gzip.compress(b), file: "ab.gz"), a + b)
  }

  func testCorruptDataNamesTheFile() {
    var compressed = Gzip.compress(Array(String(repeating: "abc", count: 1000).utf8))
    compressed[12] ^= 0xff
    compressed[13] ^= 0xff
    assertThrows(
      try Gzip.decompress(compressed, file: "broken.gz"), mentions: ["broken.gz", "gzip"])
  }

  func testTruncatedDataIsAnError() {
    let compressed = Gzip.compress(Array(String(repeating: "abc", count: 1000).utf8))
    assertThrows(
      try Gzip.decompress(Array(compressed.prefix(compressed.count / 2)), file: "short.gz"),
      mentions: ["short.gz", "truncated"])
    assertThrows(try Gzip.decompress([], file: "empty.gz"), mentions: ["empty.gz"])
  }

  func testTrailingGarbageIsAnError() {
    let compressed = Gzip.compress([1, 2, 3]) + [9, 9, 9]
    assertThrows(
      try Gzip.decompress(compressed, file: "tail.gz"), mentions: ["tail.gz", "3 stray bytes"])
  }

  func testReadMaybeCompressedHandlesBothKinds() throws {
    let directory = try temporaryDirectory()
    let data = Array("1,2,3\n".utf8)
    let plain = directory.appendingPathComponent("plain.csv")
    let packed = directory.appendingPathComponent("packed.csv.gz")
    try Data(data).write(to: plain)
    try Data(Gzip.compress(data)).write(to: packed)
    XCTAssertEqual(try Gzip.readMaybeCompressed(plain), data)
    XCTAssertEqual(try Gzip.readMaybeCompressed(packed), data)
    assertThrows(
      try Gzip.readMaybeCompressed(directory.appendingPathComponent("missing.gz")),
      mentions: ["missing.gz"])
  }
}
