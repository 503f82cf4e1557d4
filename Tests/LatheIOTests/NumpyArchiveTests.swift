import Foundation
import XCTest

@testable import LatheIO

/// `.npz` archives and the zip reader under them: round trips through the writer, files made
/// by numpy itself, and archives broken one field at a time.
final class NumpyArchiveTests: XCTestCase {
  private let fixtures = repositoryRoot.appendingPathComponent("Tests/LatheIOTests/Fixtures")

  private var arrays: [String: NumpyArray] {
    [
      "x": NumpyArray(shape: [2, 2], values: [0.5, -1, 2, 3]),
      "y": NumpyArray(dtype: .int64, shape: [2], values: [1, 0]),
    ]
  }

  func testStoredAndDeflatedRoundTrips() throws {
    let directory = try temporaryDirectory()
    for compressed in [false, true] {
      let url = directory.appendingPathComponent("a\(compressed).npz")
      try NumpyArchive.write(arrays, to: url, compressed: compressed)
      XCTAssertEqual(try NumpyArchive.read(from: url), arrays)
      // The method field (bytes 8-9 of the first local header) says which.
      let bytes = [UInt8](try Data(contentsOf: url))
      XCTAssertEqual(bytes[8], compressed ? 8 : 0)
    }
  }

  func testArchivesWrittenByNumpy() throws {
    // np.savez_compressed(x=np.arange(6, dtype=np.float32).reshape(2, 3) / 4, y=np.array([1, 0]))
    let compressed = try NumpyArchive.read(from: fixtures.appendingPathComponent("numpy-savez-compressed.npz"))
    XCTAssertEqual(compressed["x"], NumpyArray(shape: [2, 3], values: [0, 0.25, 0.5, 0.75, 1, 1.25]))
    XCTAssertEqual(compressed["y"]?.values, [1, 0])
    // numpy writes members with force_zip64: local headers say sizes FFFFFFFF and carry a zip64
    // extra field, while the central directory (which the reader trusts) has the real sizes.
    // np.savez(input_ids=int32 [[1, 2], [3, 4], [5, 6]], mask=bool [[T, F], [T, T], [F, F]], y=uint8 [2, 0, 1])
    let stored = try NumpyArchive.read(from: fixtures.appendingPathComponent("numpy-savez.npz"))
    XCTAssertEqual(stored.keys.sorted(), ["input_ids", "mask", "y"])
    XCTAssertEqual(stored["input_ids"], NumpyArray(dtype: .int32, shape: [3, 2], values: [1, 2, 3, 4, 5, 6]))
    XCTAssertEqual(stored["mask"]?.values, [1, 0, 1, 1, 0, 0])
    XCTAssertEqual(stored["y"]?.dtype, .uint8)
  }

  func testZipMembersAndTheirOrder() throws {
    let members = [
      ZipArchive.Member(name: "b.txt", bytes: Array("hello".utf8)), ZipArchive.Member(name: "a", bytes: []),
    ]
    for compressed in [false, true] {
      XCTAssertEqual(try ZipArchive.decode(try ZipArchive.encode(members, compressed: compressed), file: "z"), members)
    }
    XCTAssertEqual(try ZipArchive.decode(try ZipArchive.encode([], compressed: false), file: "empty"), [])
  }

  /// The offset of the end record (22 bytes, no comment) and of the first central entry.
  private func offsets(_ zip: [UInt8]) -> (end: Int, central: Int) {
    let end = zip.count - 22
    let central = Int(zip[end + 16]) | Int(zip[end + 17]) << 8 | Int(zip[end + 18]) << 16 | Int(zip[end + 19]) << 24
    return (end, central)
  }

  func testMalformedArchives() throws {
    let stored = try NumpyArchive.encode(arrays, compressed: false)
    let deflated = try NumpyArchive.encode(arrays, compressed: true)
    let (end, central) = offsets(stored)

    assertThrows(try ZipArchive.decode(Array(stored.prefix(10)), file: "tiny.npz"), mentions: ["tiny.npz", "22 bytes"])
    assertThrows(
      try ZipArchive.decode(Array(stored.dropLast(3)), file: "cut.npz"),
      mentions: ["cut.npz", "end record", "50 4B 05 06"])

    var pastEnd = stored
    pastEnd[end + 16] = 0xFF
    pastEnd[end + 17] = 0xFF
    assertThrows(
      try ZipArchive.decode(pastEnd, file: "o.npz"), mentions: ["o.npz", "central directory", "before the end"])

    var badLocal = stored
    badLocal[central + 42] = 7  // local header offset 7: no signature there
    assertThrows(try ZipArchive.decode(badLocal, file: "l.npz"), mentions: ["l.npz", "local header (byte 7)"])

    var localPast = stored
    localPast[central + 45] = 0x7F
    assertThrows(try ZipArchive.decode(localPast, file: "p.npz"), mentions: ["p.npz", "an offset past it"])

    var sizePast = stored
    sizePast[central + 23] = 0x10  // compressed size 256 MiB and more
    assertThrows(try ZipArchive.decode(sizePast, file: "s.npz"), mentions: ["s.npz", "data running past"])

    var badCRC = stored
    badCRC[central + 16] ^= 0xFF
    assertThrows(try ZipArchive.decode(badCRC, file: "c.npz"), mentions: ["c.npz", "x.npy", "CRC-32"])

    // Corrupt the data itself (the last byte of the first member) instead: still the CRC.
    var badData = stored
    let firstSize = Int(stored[central + 20]) | Int(stored[central + 21]) << 8
    badData[30 + 5 + firstSize - 1] ^= 0x01
    assertThrows(try ZipArchive.decode(badData, file: "d.npz"), mentions: ["d.npz", "CRC-32"])

    var method = stored
    method[central + 10] = 12
    assertThrows(try ZipArchive.decode(method, file: "m.npz"), mentions: ["compression method", "12"])

    var encrypted = stored
    encrypted[central + 8] |= 1
    assertThrows(try ZipArchive.decode(encrypted, file: "e.npz"), mentions: ["encrypted"])

    var zip64 = stored
    for i in 0..<4 { zip64[end + 16 + i] = 0xFF }
    assertThrows(try ZipArchive.decode(zip64, file: "z.npz"), mentions: ["zip64"])

    // A deflated member whose directory promises fewer bytes than it inflates to.
    let (_, deflatedCentral) = offsets(deflated)
    var lying = deflated
    lying[deflatedCentral + 24] = 3
    lying[deflatedCentral + 25] = 0
    assertThrows(try ZipArchive.decode(lying, file: "b.npz"), mentions: ["b.npz", "deflate data"])

    var garbage = deflated
    garbage[30 + 5] ^= 0xFF
    garbage[30 + 6] ^= 0xFF
    XCTAssertThrowsError(try ZipArchive.decode(garbage, file: "g.npz"))

    let notNpy = try ZipArchive.encode([ZipArchive.Member(name: "notes.txt", bytes: [1])], compressed: false)
    assertThrows(try NumpyArchive.decode(notNpy, file: "n.npz"), mentions: ["n.npz", "notes.txt", ".npy"])
    let twice = try ZipArchive.encode(
      [ZipArchive.Member(name: "x.npy", bytes: []), ZipArchive.Member(name: "x.npy", bytes: [])], compressed: false)
    assertThrows(try ZipArchive.decode(twice, file: "t.npz"), mentions: ["\"x.npy\"", "used once"])
    let badMember = try ZipArchive.encode([ZipArchive.Member(name: "x.npy", bytes: [1, 2, 3])], compressed: false)
    assertThrows(try NumpyArchive.decode(badMember, file: "bm.npz"), mentions: ["bm.npz (member x.npy)", "preamble"])
  }
}
