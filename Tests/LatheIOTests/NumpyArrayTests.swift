import Foundation
import XCTest

@testable import LatheIO

/// `.npy` files built byte by byte here (not by `NumpyArray.encoded`), with expected values
/// worked out from the IEEE and two's-complement layouts, so the reader is checked
/// independently of the writer.
final class NumpyArrayTests: XCTestCase {
  /// An `.npy` file: magic, version, little-endian header length, the header, then `data`.
  private func npy(_ header: String, _ data: [UInt8], version: UInt8 = 1) -> [UInt8] {
    let text = Array(header.utf8) + [0x0A]
    let length =
      version == 1
      ? [UInt8(text.count & 0xFF), UInt8(text.count >> 8)] : [UInt8(text.count & 0xFF), UInt8(text.count >> 8), 0, 0]
    return [0x93] + Array("NUMPY".utf8) + [version, 0] + length + text + data
  }

  private func header(_ descr: String, _ shape: String, fortran: Bool = false) -> String {
    "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
  }

  func testEveryDTypeInBothByteOrders() throws {
    let cases: [(String, [UInt8], [Float])] = [
      // binary16: 1.0, -2.0, the smallest subnormal 2^-24, infinity.
      ("<f2", [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00, 0x00, 0x7C], [1, -2, 0x1p-24, .infinity]),
      // 0x3555: exponent 13, fraction 341, so (1 + 341/1024) * 2^(13-15).
      (">f2", [0x3C, 0x00, 0x35, 0x55], [1, (1 + 341.0 / 1024) / 4]),
      ("<f4", [0x00, 0x00, 0xC0, 0x3F], [1.5]),
      (">f4", [0x3F, 0xC0, 0x00, 0x00], [1.5]),
      ("<f8", [0, 0, 0, 0, 0, 0, 0x04, 0xC0], [-2.5]),
      (">f8", [0xC0, 0x04, 0, 0, 0, 0, 0, 0], [-2.5]),
      ("|i1", [0xFF, 0x7F, 0x80], [-1, 127, -128]),
      ("<i2", [0xFE, 0xFF], [-2]),
      (">i2", [0x01, 0x00], [256]),
      ("<i4", [0x00, 0x00, 0x01, 0x00], [65536]),
      (">i4", [0xFF, 0xFF, 0xFF, 0xFD], [-3]),
      ("<i8", [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], [-1]),
      (">i8", [0, 0, 0, 0, 0, 0, 0x01, 0x00], [256]),
      ("|u1", [200, 0], [200, 0]),
      ("<u2", [0x34, 0x12], [0x1234]),
      (">u2", [0xFF, 0xFF], [65535]),
      // 2^31 + 1 rounds to the nearest Float, 2^31.
      ("<u4", [0x01, 0x00, 0x00, 0x80], [0x1p31]),
      (">u4", [0x00, 0x01, 0x00, 0x00], [65536]),
      ("<u8", [0, 0, 0, 0, 0, 0, 0, 0x01], [0x1p56]),
      (">u8", [0, 0, 0, 0, 0, 0, 0, 0x07], [7]),
      ("|b1", [0, 1, 2], [0, 1, 1]),
    ]
    for (descr, data, expected) in cases {
      let bytes = npy(header(descr, "(\(expected.count),)"), data)
      let array = try NumpyArray.decode(bytes, file: descr)
      XCTAssertEqual(array.shape, [expected.count], descr)
      XCTAssertEqual(array.values, expected, descr)
      XCTAssertEqual(array.dtype.descr.dropFirst(), descr.dropFirst(), descr)
    }
  }

  func testVersionsTwoAndThreeAndZeroDimensionalArrays() throws {
    let one = [UInt8](repeating: 0, count: 2) + [0xC0, 0x3F]
    XCTAssertEqual(try NumpyArray.decode(npy(header("<f4", "(1,)"), one, version: 2), file: "v2").values, [1.5])
    // 3.0 headers may hold UTF-8 (here in a harmless extra key numpy would ignore).
    let utf8 = "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'note': 'größe', }"
    XCTAssertEqual(try NumpyArray.decode(npy(utf8, one, version: 3), file: "v3").values, [1.5])
    let scalar = try NumpyArray.decode(npy(header("<f4", "()"), one), file: "0-d")
    XCTAssertEqual(scalar.shape, [])
    XCTAssertEqual(scalar.values, [1.5])
    let empty = try NumpyArray.decode(npy(header("<f4", "(0, 5)"), []), file: "empty")
    XCTAssertEqual(empty.shape, [0, 5])
    XCTAssertEqual(empty.values, [])
  }

  func testFortranOrderBecomesCOrder() throws {
    // Element (i, j, k) = 100i + 10j + k of shape (2, 3, 4), written first-axis-fastest.
    var fortranBytes: [UInt8] = []
    var expected: [Float] = []
    for k in 0..<4 { for j in 0..<3 { for i in 0..<2 { fortranBytes.append(UInt8(100 * i + 10 * j + k)) } } }
    for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { expected.append(Float(100 * i + 10 * j + k)) } } }
    let array = try NumpyArray.decode(npy(header("|u1", "(2, 3, 4)", fortran: true), fortranBytes), file: "f")
    XCTAssertEqual(array.shape, [2, 3, 4])
    XCTAssertEqual(array.values, expected)
  }

  func testFileWrittenByNumpy() throws {
    // np.save(..., np.asfortranarray(np.array([[1.5, -2, 3.25], [4, 5.5, -6.75]], dtype='>f8')))
    let url = repositoryRoot.appendingPathComponent("Tests/LatheIOTests/Fixtures/numpy-fortran-f8.npy")
    let array = try NumpyArray.read(from: url)
    XCTAssertEqual(array.dtype, NumpyDType(kind: .float, byteSize: 8, isBigEndian: true))
    XCTAssertEqual(array.shape, [2, 3])
    XCTAssertEqual(array.values, [1.5, -2, 3.25, 4, 5.5, -6.75])
    // Written back little-endian in C order (the header must say so too), it reads the same.
    let again = try NumpyArray.decode(try array.encoded(), file: "again.npy")
    XCTAssertEqual(again.dtype, .float64)
    XCTAssertEqual(again.values, array.values)
  }

  func testWriterRoundTripsEveryWritableDType() throws {
    let directory = try temporaryDirectory()
    let values: [Float] = [0, 1, 2, 3, 4, 5]
    for descr in ["f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"] {
      let dtype = try XCTUnwrap(NumpyDType(descr: "<" + descr))
      let data = descr == "b1" ? [0, 1, 1, 0, 1, 0] : values
      let url = directory.appendingPathComponent("\(descr).npy")
      try NumpyArray(dtype: dtype, shape: [2, 3], values: data).write(to: url)
      let bytes = try Data(contentsOf: url)
      // numpy aligns the data to 64 bytes.
      XCTAssertEqual((bytes.count - 6 * dtype.byteSize) % 64, 0, descr)
      XCTAssertEqual(try NumpyArray.read(from: url), NumpyArray(dtype: dtype, shape: [2, 3], values: data), descr)
    }
    let scalar = try NumpyArray(shape: [], values: [7]).encoded()
    XCTAssertEqual(try NumpyArray.decode(scalar, file: "scalar"), NumpyArray(shape: [], values: [7]))
    XCTAssertTrue(String(decoding: scalar, as: UTF8.self).contains("'shape': ()"))
    let vector = try NumpyArray(shape: [1], values: [7]).encoded()
    XCTAssertTrue(String(decoding: vector, as: UTF8.self).contains("'shape': (1,)"))
  }

  func testWriterRefusesValuesTheTypeCannotHold() {
    assertThrows(
      try NumpyArray(dtype: .uint8, shape: [2], values: [1, 256]).encoded(), mentions: ["element 1", "256"])
    assertThrows(try NumpyArray(dtype: .int32, shape: [1], values: [0.5]).encoded(), mentions: ["element 0", "0.5"])
    assertThrows(try NumpyArray(dtype: .float16, shape: [1], values: [1]).encoded(), mentions: ["f2", "f4 and f8"])
  }

  func testMalformedFiles() {
    let good = npy(header("<f4", "(2,)"), [UInt8](repeating: 0, count: 8))
    assertThrows(try NumpyArray.decode(Array(good.prefix(7)), file: "tiny.npy"), mentions: ["tiny.npy", "preamble"])
    var badMagic = good
    badMagic[1] = 0x4D
    assertThrows(try NumpyArray.decode(badMagic, file: "m.npy"), mentions: ["m.npy", "magic", "93 4D 55"])
    var badVersion = good
    badVersion[6] = 4
    assertThrows(try NumpyArray.decode(badVersion, file: "v.npy"), mentions: ["version", "4.0", "1.0"])
    // The header length promises more than the file holds.
    assertThrows(
      try NumpyArray.decode(Array(good.prefix(40)), file: "cut.npy"), mentions: ["cut.npy", "header length", "at most"])
    assertThrows(
      try NumpyArray.decode(Array(good.dropLast()), file: "short.npy"),
      mentions: ["short.npy", "npy data", "8 bytes", "got 7 bytes"])
    assertThrows(try NumpyArray.decode(good + [0], file: "long.npy"), mentions: ["long.npy", "got 9 bytes"])
    let overflow = npy(header("<f8", "(4294967296, 4294967296, 16)"), [])
    assertThrows(try NumpyArray.decode(overflow, file: "big.npy"), mentions: ["big.npy", "'shape'", "64 bits"])
    let byteOverflow = npy(header("<f8", "(1152921504606846976, 2)"), [])
    assertThrows(try NumpyArray.decode(byteOverflow, file: "big.npy"), mentions: ["big.npy", "byte count"])
    assertThrows(
      try NumpyArray.decode(npy(header("|O", "(1,)"), [0]), file: "obj.npy"),
      mentions: ["obj.npy", "'descr'", "pickle"])
    assertThrows(
      try NumpyArray.decode(npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", []), file: "s"),
      mentions: ["structured"])
    assertThrows(try NumpyArray.decode(npy(header("<c8", "(1,)"), []), file: "c.npy"), mentions: ["'<c8'", "f4"])
    assertThrows(
      try NumpyArray.decode(npy("{'descr': '<f4', 'shape': (1,), }", [0, 0, 0, 0]), file: "k.npy"),
      mentions: ["k.npy", "'fortran_order'", "missing"])
    assertThrows(
      try NumpyArray.decode(npy(header("<f4", "(-1,)"), []), file: "neg.npy"), mentions: ["axis 0", "-1"])
    assertThrows(
      try NumpyArray.decode(npy(header("<f4", "(1,"), []), file: "open.npy"), mentions: ["open.npy", "npy header"])
    let deep = String(repeating: "[", count: 100)
    assertThrows(
      try NumpyArray.decode(npy("{'descr': \(deep)", []), file: "deep.npy"), mentions: ["nested brackets"])
    // A 1.0 header is Latin-1: any byte decodes, but the dict must still parse.
    assertThrows(try NumpyArray.decode(npy("\u{FF}", []), file: "latin.npy"), mentions: ["latin.npy", "npy header"])
    // 3.0 requires UTF-8.
    var notUTF8 = npy(header("<f4", "(0,)"), [], version: 3)
    notUTF8[12 + 3] = 0xFF
    assertThrows(try NumpyArray.decode(notUTF8, file: "u.npy"), mentions: ["UTF-8"])
  }
}
