import XCTest

@testable import LatheIO

final class IDXTests: XCTestCase {
  func testUInt8RoundTripThroughGzippedFile() throws {
    let values: [UInt8] = (0..<24).map { UInt8($0 * 10) }
    let url = try temporaryDirectory().appendingPathComponent("images-idx3-ubyte.gz")
    try Data(Gzip.compress(IDX.encodeUInt8(shape: [2, 3, 4], values: values))).write(to: url)
    let array = try IDX.read(from: url)
    XCTAssertEqual(array.elementType, .uint8)
    XCTAssertEqual(array.shape, [2, 3, 4])
    XCTAssertEqual(array.values, values.map(Float.init))
  }

  func testEncodedHeaderIsBigEndian() {
    // Magic 00 00, type 08, 2 dims; 300 = 0x012C; 1.
    XCTAssertEqual(
      IDX.encodeUInt8(shape: [300, 1], values: [UInt8](repeating: 5, count: 300)).prefix(12),
      [0, 0, 0x08, 2, 0, 0, 0x01, 0x2C, 0, 0, 0, 1])
  }

  func testOtherElementTypesDecodeBigEndian() throws {
    let header: (UInt8, UInt8) -> [UInt8] = { type, count in [0, 0, type, 1, 0, 0, 0, count] }
    XCTAssertEqual(try IDX.decode(header(0x09, 2) + [0xff, 0x05], file: "i8").values, [-1, 5])
    XCTAssertEqual(try IDX.decode(header(0x0B, 1) + [0xfe, 0x00], file: "i16").values, [-512])
    XCTAssertEqual(
      try IDX.decode(header(0x0C, 1) + [0x00, 0x01, 0x00, 0x00], file: "i32").values, [65536])
    XCTAssertEqual(try IDX.decode(header(0x0D, 1) + [0x3f, 0xc0, 0, 0], file: "f32").values, [1.5])
    XCTAssertEqual(
      try IDX.decode(header(0x0E, 1) + [0xc0, 0x04, 0, 0, 0, 0, 0, 0], file: "f64").values, [-2.5])
  }

  func testWrongMagicTypeAndShortFiles() {
    assertThrows(
      try IDX.decode([1, 0, 8, 1, 0, 0, 0, 0], file: "bad.idx"),
      mentions: ["bad.idx", "magic number", "00 00", "01 00"])
    assertThrows(
      try IDX.decode([0, 0, 0x07, 1, 0, 0, 0, 0], file: "bad.idx"),
      mentions: ["bad.idx", "element type", "0x07 is not supported", "0x08 (u8)"])
    assertThrows(try IDX.decode([0, 0], file: "tiny.idx"), mentions: ["tiny.idx", "2-byte file"])
    assertThrows(
      try IDX.decode([0, 0, 8, 3, 0, 0, 0, 1], file: "dims.idx"),
      mentions: ["dims.idx", "3 big-endian u32 sizes"])
  }

  func testTruncatedOrOversizedData() {
    var bytes = IDX.encodeUInt8(shape: [2, 5], values: [UInt8](repeating: 1, count: 10))
    bytes.removeLast(3)
    assertThrows(
      try IDX.decode(bytes, file: "short.idx"),
      mentions: ["short.idx", "10 bytes for shape [2, 5] of u8", "7 bytes", "truncated"])
    assertThrows(
      try IDX.decode(bytes + [1, 2, 3, 4], file: "long.idx"), mentions: ["long.idx", "11 bytes"])
    // Four dimensions of 2^32-1 overflow Int: an error, not a trap.
    let huge: [UInt8] = [0, 0, 0x0E, 4] + [UInt8](repeating: 0xff, count: 16)
    assertThrows(
      try IDX.decode(huge, file: "huge.idx"), mentions: ["huge.idx", "more bytes than fit"])
  }
}
