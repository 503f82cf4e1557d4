import Foundation
import XCTest

@testable import LatheIO

/// PNG and JPEG decoding through libpng and libjpeg: a PNG assembled here chunk by chunk (so
/// the decoder is not only checked against its own encoder), lossy JPEG round trips, and files
/// broken in the ways downloads break.
final class ImageCodecTests: XCTestCase {
  /// A PNG chunk: big-endian length, type, data, CRC-32 of type and data.
  private func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
    let body = Array(type.utf8) + data
    return be32(UInt32(data.count)) + body + be32(ZipArchive.crc32(body))
  }

  private func be32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }

  /// An 8-bit RGB PNG of `rows` (each `width * 3` bytes), filter type 0 on every row.
  private func handMadePNG(width: Int, height: Int, rows: [[UInt8]]) -> [UInt8] {
    let raw: [UInt8] = rows.flatMap { [UInt8(0)] + $0 }
    // A zlib stream: header 78 9C, the raw deflate data, then Adler-32 of the input.
    var (a, b): (UInt32, UInt32) = (1, 0)
    for byte in raw {
      a = (a + UInt32(byte)) % 65521
      b = (b + a) % 65521
    }
    let zlib: [UInt8] = [0x78, 0x9C] + Gzip.deflateRaw(raw) + be32(b << 16 | a)
    let header: [UInt8] = be32(UInt32(width)) + be32(UInt32(height)) + [8, 2, 0, 0, 0]
    let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    return signature + chunk("IHDR", header) + chunk("IDAT", zlib)
      + chunk("IEND", [])
  }

  func testHandMadePNG() throws {
    let rows: [[UInt8]] = [[255, 0, 0, 0, 255, 0], [0, 0, 255, 10, 20, 30]]
    let image = try ImageCodec.decode(handMadePNG(width: 2, height: 2, rows: rows), file: "hand.png")
    XCTAssertEqual(image, DecodedImage(width: 2, height: 2, channels: 3, pixels: rows.flatMap { $0 }))
    let gray = try ImageCodec.decode(handMadePNG(width: 2, height: 2, rows: rows), grayscale: true, file: "hand.png")
    XCTAssertEqual(gray.channels, 1)
    XCTAssertEqual(gray.pixels.count, 4)
    // Green is the brightest primary in every luma formula.
    XCTAssertGreaterThan(gray.pixels[1], gray.pixels[0])
    XCTAssertGreaterThan(gray.pixels[0], gray.pixels[2])
  }

  func testPNGRoundTripIsExact() throws {
    let pixels = (0..<(5 * 3 * 3)).map { UInt8($0 * 5) }
    let image = DecodedImage(width: 5, height: 3, channels: 3, pixels: pixels)
    let bytes = try ImageCodec.encode(image, as: .png)
    XCTAssertEqual(ImageCodec.format(of: bytes), .png)
    XCTAssertEqual(try ImageCodec.decode(bytes, file: "rt.png"), image)
    let gray = DecodedImage(width: 3, height: 2, channels: 1, pixels: [0, 50, 100, 150, 200, 250])
    XCTAssertEqual(try ImageCodec.decode(try ImageCodec.encode(gray, as: .png), grayscale: true, file: "g.png"), gray)
  }

  func testJPEGRoundTripIsClose() throws {
    // Flat colours survive JPEG almost unchanged; detail would not.
    let pixels = (0..<(16 * 8)).flatMap { _ in [200, 40, 90] as [UInt8] }
    let image = DecodedImage(width: 16, height: 8, channels: 3, pixels: pixels)
    let bytes = try ImageCodec.encode(image, as: .jpeg, quality: 95)
    XCTAssertEqual(ImageCodec.format(of: bytes), .jpeg)
    let decoded = try ImageCodec.decode(bytes, file: "rt.jpg")
    XCTAssertEqual([decoded.width, decoded.height, decoded.channels], [16, 8, 3])
    for (got, wanted) in zip(decoded.pixels, pixels) { XCTAssertEqual(Double(got), Double(wanted), accuracy: 4) }
    let gray = try ImageCodec.decode(bytes, grayscale: true, file: "rt.jpg")
    XCTAssertEqual(gray.channels, 1)
  }

  /// Files Pillow wrote (Tests/LatheIOTests/Fixtures): an 8x6 RGB gradient, pixel (x, y) =
  /// (32x, 40y, 128), as PNG, baseline JPEG and progressive JPEG (quality 95), and a 2x2 gray
  /// PNG with alpha.
  func testFilesWrittenByPillow() throws {
    let fixtures = repositoryRoot.appendingPathComponent("Tests/LatheIOTests/Fixtures")
    let png = try ImageCodec.read(from: fixtures.appendingPathComponent("pillow-rgb-8x6.png"))
    XCTAssertEqual([png.width, png.height, png.channels], [8, 6, 3])
    for y in 0..<6 {
      for x in 0..<8 {
        XCTAssertEqual(Array(png.pixels[(y * 8 + x) * 3..<(y * 8 + x) * 3 + 3]), [UInt8(32 * x), UInt8(40 * y), 128])
      }
    }
    // JPEG is lossy; Pillow's own decoder (libjpeg-turbo too) read these rows:
    let baseline = try ImageCodec.read(from: fixtures.appendingPathComponent("pillow-rgb-8x6.jpg"))
    let row0: [UInt8] = [
      0, 4, 112, 20, 8, 116, 52, 9, 116, 84, 9, 114, 116, 8, 117, 148, 8, 115, 181, 8, 115, 202, 12, 118,
    ]
    for (got, wanted) in zip(baseline.pixels.prefix(24), row0) {
      XCTAssertEqual(Double(got), Double(wanted), accuracy: 3)
    }
    let progressive = try ImageCodec.read(from: fixtures.appendingPathComponent("pillow-progressive-8x6.jpg"))
    let row5: [UInt8] = [
      23, 187, 134, 43, 192, 137, 75, 192, 137, 107, 192, 135, 139, 192, 138, 171, 192, 136, 204, 191, 136, 225, 196,
      140,
    ]
    for (got, wanted) in zip(progressive.pixels.suffix(24), row5) {
      XCTAssertEqual(Double(got), Double(wanted), accuracy: 3)
    }
    let gray = try ImageCodec.read(from: fixtures.appendingPathComponent("pillow-rgb-8x6.jpg"), grayscale: true)
    for (got, wanted) in zip(gray.pixels.prefix(8), [15, 24, 34, 43, 53, 62, 72, 81] as [UInt8]) {
      XCTAssertEqual(Double(got), Double(wanted), accuracy: 3)
    }
    // Gray 200 with alpha 255, 0, 128, 255: alpha is dropped, as PIL's convert("L") does.
    let alpha = try ImageCodec.read(from: fixtures.appendingPathComponent("pillow-gray-alpha-2x2.png"), grayscale: true)
    XCTAssertEqual(alpha.channels, 1)
    for (got, wanted) in zip(alpha.pixels, [200, 200, 200, 200] as [Double]) {
      XCTAssertEqual(Double(got), wanted, accuracy: 2)
    }
  }

  func testBrokenFilesAreErrorsNamingTheFile() throws {
    let png = handMadePNG(width: 2, height: 1, rows: [[1, 2, 3, 4, 5, 6]])
    assertThrows(try ImageCodec.decode([1, 2, 3], file: "x.png"), mentions: ["x.png", "signature", "01 02 03"])
    assertThrows(try ImageCodec.decode(Array(png.prefix(20)), file: "cut.png"), mentions: ["cut.png", "PNG data"])
    var badCRC = png
    badCRC[33 + 10] ^= 0xFF  // inside IDAT's data, so its CRC no longer matches
    assertThrows(try ImageCodec.decode(badCRC, file: "crc.png"), mentions: ["crc.png", "PNG data"])
    let huge: [UInt8] =
      [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", be32(100_000) + be32(100_000) + [8, 2, 0, 0, 0])
      + chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) + chunk("IEND", [])
    assertThrows(try ImageCodec.decode(huge, file: "huge.png"), mentions: ["huge.png", "limit"])

    let jpeg = try ImageCodec.encode(
      DecodedImage(width: 8, height: 8, channels: 1, pixels: .init(repeating: 9, count: 64)), as: .jpeg)
    assertThrows(try ImageCodec.decode(Array(jpeg.prefix(3)), file: "cut.jpg"), mentions: ["cut.jpg", "JPEG data"])
    assertThrows(
      try ImageCodec.decode([0xFF, 0xD8, 0xFF] + [UInt8](repeating: 0x41, count: 64), file: "junk.jpg"),
      mentions: ["junk.jpg", "JPEG data"])
    // Every truncation of a valid JPEG either decodes (libjpeg pads a cut scan) or is an error.
    for length in stride(from: 3, to: jpeg.count, by: 7) {
      _ = try? ImageCodec.decode(Array(jpeg.prefix(length)), file: "t.jpg")
    }
  }
}
