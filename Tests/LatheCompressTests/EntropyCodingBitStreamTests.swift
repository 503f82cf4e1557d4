import XCTest

@testable import LatheCompress

final class EntropyCodingBitStreamTests: XCTestCase {
  func testFieldsOfEveryWidthRoundTripAcrossByteBoundaries() throws {
    var random = EntropyCodingRandom(seed: 1)
    var fields: [(value: UInt32, width: Int)] = []
    for _ in 0..<5000 {
      let width = Int.random(in: 0...32, using: &random)
      let value = width == 0 ? 0 : UInt32.random(in: 0...UInt32.max, using: &random) >> (32 - width)
      fields.append((value, width))
    }
    var writer = BitWriter()
    for field in fields { writer.write(field.value, count: field.width) }
    let bytes = writer.finish()
    let totalBits = fields.reduce(0) { $0 + $1.width }
    XCTAssertEqual(writer.bitCount, totalBits)
    XCTAssertEqual(bytes.count, (totalBits + 7) / 8)

    var reader = BitReader(bytes)
    for (index, field) in fields.enumerated() {
      XCTAssertEqual(try reader.read(field.width), field.value, "field \(index)")
    }
    XCTAssertEqual(reader.position, totalBits)
    XCTAssertLessThan(reader.remainingBits, 8)
  }

  func testBitOrderIsMostSignificantFirst() throws {
    var writer = BitWriter()
    writer.write(0b1, count: 1)
    writer.write(0b01, count: 2)
    writer.write(0b1_1111, count: 5)  // fills byte 0
    writer.write(0b101, count: 3)  // high bits of byte 1, padded with zeros
    XCTAssertEqual(writer.finish(), [0b1011_1111, 0b1010_0000])

    var reader = BitReader([0b1011_1111, 0b1010_0000])
    XCTAssertEqual(try reader.read(4), 0b1011)
    XCTAssertEqual(try reader.read(7), 0b111_1101)
    XCTAssertEqual(reader.peek(8), 0, "peek pads with zero bits past the end")
  }

  func testReadingPastTheEndThrowsInsteadOfTrapping() throws {
    var reader = BitReader([0xFF, 0x00])
    XCTAssertEqual(try reader.read(12), 0xFF0)
    XCTAssertThrowsError(try reader.read(5)) { error in
      XCTAssertEqual(error as? BitReaderError, .readPastEnd(requestedBits: 5, remainingBits: 4))
    }
    XCTAssertEqual(reader.position, 12, "a refused read consumes nothing")
    XCTAssertEqual(try reader.read(4), 0)
    XCTAssertThrowsError(try reader.skip(1))

    var empty = BitReader([])
    XCTAssertThrowsError(try empty.read(1))
    XCTAssertEqual(try empty.read(0), 0)
  }

  func testReaderStartsAtAByteOffset() throws {
    var reader = BitReader([0xAA, 0xBB, 0xCC], startByte: 1)
    XCTAssertEqual(reader.remainingBits, 16)
    XCTAssertEqual(try reader.read(16), 0xBBCC)
  }

  func testVarintsRoundTripAndRejectTruncationAndOverlongEncodings() throws {
    let values = [0, 1, 127, 128, 300, 65536, 1 << 40, Int.max]
    var bytes: [UInt8] = []
    for value in values { ByteFieldWriter.appendVarint(value, to: &bytes) }
    var reader = ByteFieldReader(bytes)
    for value in values { XCTAssertEqual(try reader.varint("v"), value) }
    XCTAssertEqual(reader.remainingCount, 0)

    var truncated = ByteFieldReader([0x80, 0x80])
    XCTAssertThrowsError(try truncated.varint("count")) { error in
      XCTAssertEqual(error as? ByteFieldError, .truncated(field: "count", offset: 0))
    }
    var overlong = ByteFieldReader([UInt8](repeating: 0xFF, count: 12))
    XCTAssertThrowsError(try overlong.varint("count")) { error in
      XCTAssertEqual(error as? ByteFieldError, .varintTooLong(field: "count", offset: 0))
    }
  }
}
