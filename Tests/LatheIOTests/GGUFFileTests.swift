import XCTest

@testable import LatheIO

final class GGUFFileTests: XCTestCase {
  func testRoundTripOfEveryValueTypeAndEveryCodableTensorType() throws {
    let metadata: [(key: String, value: GGUFValue)] = [
      ("general.architecture", .string("mlp")), ("general.name", .string("ünïcode ✓")),
      ("u8", .uint8(255)), ("i8", .int8(-128)), ("u16", .uint16(65535)), ("i16", .int16(-32768)),
      ("u32", .uint32(.max)), ("i32", .int32(.min)), ("u64", .uint64(.max)), ("i64", .int64(.min)),
      ("f32", .float32(-1.5)), ("f64", .float64(.pi)), ("yes", .bool(true)), ("no", .bool(false)),
      ("tokens", .strings(["a", "", "ü"])), ("ids", .int32s([1, -2, 3])), ("scores", .float32s([0.5, -0.25])),
      ("empty", .array(.uint8, [])),
    ]
    let weight = (0..<(4 * 256)).map { Float($0 % 37) / 37 - 0.5 }
    let tensors = try [
      GGUFTensor(name: "w.f32", shape: [4, 3], values: Array(weight[0..<12]), type: .f32),
      GGUFTensor(name: "w.f16", shape: [2, 5], values: Array(weight[0..<10]), type: .f16),
      GGUFTensor(name: "w.q8_0", shape: [3, 64], values: Array(weight[0..<192]), type: .q80),
      GGUFTensor(name: "w.q4_0", shape: [2, 32], values: Array(weight[0..<64]), type: .q40),
      GGUFTensor(name: "w.q4_K", shape: [4, 256], values: weight, type: .q4K),
      GGUFTensor(name: "bias", shape: [7], values: [1, 2, 3, 4, 5, 6, 7], type: .f32),
    ]
    let url = try temporaryDirectory().appendingPathComponent("model.gguf")
    try GGUFWriter.write(metadata: metadata, tensors: tensors, to: url)
    let file = try GGUFFile.read(from: url)

    XCTAssertEqual(file.version, 3)
    XCTAssertEqual(file.alignment, 32)
    XCTAssertEqual(file.metadata.map(\.key), metadata.map(\.key) + ["general.alignment"])
    XCTAssertEqual(file.metadata.dropLast().map(\.value), metadata.map(\.value))
    XCTAssertEqual(file["general.alignment"], .uint32(32))
    XCTAssertEqual(file.tensors.map(\.name), tensors.map(\.name))
    XCTAssertEqual(file.tensors.map(\.type), [.f32, .f16, .q80, .q40, .q4K, .f32])
    XCTAssertEqual(file.tensors[0].dimensions, [3, 4], "GGUF order: innermost first")
    XCTAssertEqual(file.tensors[0].shape, [4, 3])
    XCTAssertEqual(file.tensors.map(\.byteCount), [48, 20, 3 * 2 * 34, 2 * 18, 4 * 144, 28])
    XCTAssertEqual(file.dataStart % 32, 0)
    for (info, written) in zip(file.tensors, tensors) {
      XCTAssertEqual(info.offset % 32, 0, info.name)
      XCTAssertEqual(file.data(of: info), written.data, info.name)
      XCTAssertEqual(try file.floats(of: info), GGMLCodec.decode(written.data, as: info.type, count: info.elements))
    }
    XCTAssertEqual(try file.floats(of: file.tensors[5]), [1, 2, 3, 4, 5, 6, 7])
    XCTAssertEqual(url.fileSizeOnDisk, file.dataStart + file.tensors.last!.offset + 32)
  }

  /// Every byte written by hand from the format's description (ggml's docs/gguf.md).
  func testFileLayoutMatchesTheFormatByteForByte() throws {
    let bytes = try GGUFWriter.encode(
      metadata: [("k", .uint8(7))],
      tensors: [GGUFTensor(name: "t", shape: [2], values: [1, -2], type: .f32)])
    var expected: [UInt8] = Array("GGUF".utf8) + [3, 0, 0, 0] + le64(1) + le64(2)
    expected += le64(1) + Array("k".utf8) + [0, 0, 0, 0] + [7]
    expected += le64(17) + Array("general.alignment".utf8) + [4, 0, 0, 0] + [32, 0, 0, 0]
    expected += le64(1) + Array("t".utf8) + [1, 0, 0, 0] + le64(2) + [0, 0, 0, 0] + le64(0)
    XCTAssertEqual(expected.count, 104)
    expected += [UInt8](repeating: 0, count: 24)
    expected += [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0] + [UInt8](repeating: 0, count: 24)
    XCTAssertEqual(bytes, expected)
  }

  func testWriterRefusesWhatTheFormatCannotHold() {
    XCTAssertThrowsError(try GGUFTensor(name: "w", shape: [2, 48], values: .init(repeating: 0, count: 96), type: .q40))
    XCTAssertThrowsError(
      try GGUFWriter.encode(metadata: [("a", .uint8(1)), ("a", .uint8(2))], tensors: []))
    XCTAssertThrowsError(
      try GGUFWriter.encode(metadata: [("a", .array(.uint8, [.int8(1)]))], tensors: []))
    XCTAssertThrowsError(try GGUFWriter.encode(metadata: [("general.alignment", .uint32(24))], tensors: []))
    let long = GGUFTensor(name: String(repeating: "n", count: 64), dimensions: [1], type: .f32, data: [0, 0, 0, 0])
    XCTAssertThrowsError(try GGUFWriter.encode(metadata: [], tensors: [long]), "63 bytes at most")
    let t = GGUFTensor(name: "t", dimensions: [4], type: .f32, data: [0, 0, 0, 0])
    XCTAssertThrowsError(try GGUFWriter.encode(metadata: [], tensors: [t]), "4 bytes for 4 floats")
  }

  func testAnotherAlignmentIsHonoured() throws {
    let tensors = try [
      GGUFTensor(name: "a", shape: [3], values: [1, 2, 3], type: .f32),
      GGUFTensor(name: "b", shape: [1], values: [4], type: .f32),
    ]
    let bytes = try GGUFWriter.encode(metadata: [("general.alignment", .uint32(64))], tensors: tensors)
    let file = try GGUFFile.decode(Data(bytes), file: "a.gguf")
    XCTAssertEqual(file.alignment, 64)
    XCTAssertEqual(file.dataStart % 64, 0)
    XCTAssertEqual(file.tensors.map(\.offset), [0, 64])
    XCTAssertEqual(try file.floats(of: file.tensors[1]), [4])
  }

  // MARK: damaged files

  func testEveryTruncationIsAnErrorNamingAField() throws {
    let bytes = try GGUFWriter.encode(
      metadata: [("general.name", .string("x")), ("ids", .int32s([1, 2]))],
      tensors: [GGUFTensor(name: "w", shape: [2, 32], values: .init(repeating: 0.5, count: 64), type: .q80)])
    // The tensor's 68 bytes are padded to 96: cutting into the last 28 zeros loses nothing.
    for length in 0..<(bytes.count - 28) {
      XCTAssertThrowsError(try GGUFFile.decode(Data(bytes[0..<length]), file: "cut.gguf"), "\(length) bytes") {
        XCTAssertTrue("\($0)".hasPrefix("cut.gguf: "), "\($0)")
        XCTAssertFalse("\($0)".contains("\n"))
      }
    }
  }

  func testBadMagicAndVersions() {
    var bytes = header(tensors: 0, entries: 0)
    bytes[0] = UInt8(ascii: "G")
    bytes[3] = UInt8(ascii: "G")
    assertThrows(
      try GGUFFile.decode(Data(bytes), file: "m.gguf"), mentions: ["m.gguf", "magic", "\"GGUF\"", "47475547"])
    bytes = header(tensors: 0, entries: 0, version: 1)
    assertThrows(try GGUFFile.decode(Data(bytes), file: "v.gguf"), mentions: ["version", "1 is not supported"])
    bytes = header(tensors: 0, entries: 0, version: 0x0300_0000)
    assertThrows(try GGUFFile.decode(Data(bytes), file: "v.gguf"), mentions: ["big-endian"])
    XCTAssertNoThrow(try GGUFFile.decode(Data(header(tensors: 0, entries: 0, version: 2)), file: "v2.gguf"))
  }

  func testAbsurdCountsAndLengthsAreRefusedBeforeAllocating() {
    assertThrows(
      try GGUFFile.decode(Data(header(tensors: .max, entries: 0)), file: "a.gguf"),
      mentions: ["tensor count", "at most 0", "\(UInt64.max)"])
    assertThrows(
      try GGUFFile.decode(Data(header(tensors: 0, entries: 1 << 40)), file: "a.gguf"), mentions: ["metadata count"])
    // A key whose length runs past the file.
    var bytes = header(tensors: 0, entries: 1) + le64(1 << 50) + [UInt8](repeating: 0x61, count: 16)
    assertThrows(try GGUFFile.decode(Data(bytes), file: "a.gguf"), mentions: ["metadata entry 0 key length"])
    // An array of 2⁶² u32s in a few bytes.
    bytes = header(tensors: 0, entries: 1) + string("a") + le32(9) + le32(4) + le64(1 << 62) + le32(0)
    assertThrows(try GGUFFile.decode(Data(bytes), file: "a.gguf"), mentions: ["\"a\" element count"])
    // An array of strings whose count alone fits, each string length runs out.
    bytes = header(tensors: 0, entries: 1) + string("a") + le32(9) + le32(8) + le64(2) + le64(1 << 40) + le64(0)
    assertThrows(try GGUFFile.decode(Data(bytes), file: "a.gguf"), mentions: ["\"a\"[0] length"])
  }

  func testMalformedMetadataValues() {
    func decode(_ entry: [UInt8]) throws -> GGUFFile {
      try GGUFFile.decode(Data(header(tensors: 0, entries: 1) + entry), file: "k.gguf")
    }
    assertThrows(try decode(string("a") + le32(13) + [0]), mentions: ["\"a\" type", "13 is not supported"])
    assertThrows(try decode(string("a") + le32(7) + [2]), mentions: ["\"a\"", "a bool (0 or 1)", "got 2"])
    assertThrows(
      try decode(string("a") + le32(9) + le32(9) + le64(1) + le32(0) + le64(0)), mentions: ["array of arrays"])
    assertThrows(try decode(le64(2) + [0xff, 0xfe] + le32(0) + [0]), mentions: ["metadata entry 0 key", "UTF-8"])
    let twice = header(tensors: 0, entries: 2) + string("a") + le32(0) + [1] + string("a") + le32(0) + [2]
    assertThrows(try GGUFFile.decode(Data(twice), file: "k.gguf"), mentions: ["metadata \"a\"", "a key used once"])
    assertThrows(
      try decode(string("general.alignment") + le32(4) + le32(24)), mentions: ["general.alignment", "power of two"])
    assertThrows(
      try decode(string("general.alignment") + le32(5) + le32(32)), mentions: ["general.alignment", "a u32"])
    // A line break in a key stays escaped: messages are one line.
    assertThrows(try decode(string("a\nb") + le32(13) + [0]), mentions: ["a\\nb"])
  }

  func testMalformedTensorInfos() {
    /// One tensor "t" (F32 unless `type`) with `dims`, at `offset`, and `data` bytes of data.
    func file(dims: [UInt64], type: UInt32 = 0, offset: UInt64 = 0, data: Int = 64, rank: UInt32? = nil) -> Data {
      var bytes = header(tensors: 1, entries: 0) + string("t") + le32(rank ?? UInt32(dims.count))
      for d in dims { bytes += le64(d) }
      bytes += le32(type) + le64(offset)
      bytes += [UInt8](repeating: 0, count: GGUFWriter.padded(bytes.count, to: 32) - bytes.count + data)
      return Data(bytes)
    }
    XCTAssertNoThrow(try GGUFFile.decode(file(dims: [4, 4]), file: "t.gguf"))
    assertThrows(try GGUFFile.decode(file(dims: [1, 1, 1, 1, 1]), file: "t.gguf"), mentions: ["n_dims", "at most 4"])
    assertThrows(
      try GGUFFile.decode(file(dims: [1 << 62, 4]), file: "t.gguf"), mentions: ["\"t\" dimension 1", "63 bits"])
    assertThrows(
      try GGUFFile.decode(file(dims: [4], type: 99), file: "t.gguf"), mentions: ["\"t\" type", "ggml type 99"])
    assertThrows(
      try GGUFFile.decode(file(dims: [48], type: 8), file: "t.gguf"),
      mentions: ["\"t\" dimension 0", "a multiple of Q8_0's block of 32", "got 48"])
    assertThrows(try GGUFFile.decode(file(dims: [4], offset: 8), file: "t.gguf"), mentions: ["offset", "alignment 32"])
    assertThrows(
      try GGUFFile.decode(file(dims: [32], offset: 32), file: "t.gguf"),
      mentions: ["\"t\" offset", "128 bytes within the 64-byte data section"])
    assertThrows(try GGUFFile.decode(file(dims: [17]), file: "t.gguf"), mentions: ["\"t\" offset", "past the file"])
    assertThrows(
      try GGUFFile.decode(file(dims: [4], offset: 1 << 63), file: "t.gguf"), mentions: ["\"t\" offset"])
  }

  func testDuplicateAndOverlappingTensors() {
    func twoTensors(secondName: String, secondOffset: UInt64) -> Data {
      var bytes = header(tensors: 2, entries: 0)
      bytes += string("a") + le32(1) + le64(16) + le32(0) + le64(0)
      bytes += string(secondName) + le32(1) + le64(8) + le32(0) + le64(secondOffset)
      bytes += [UInt8](repeating: 0, count: GGUFWriter.padded(bytes.count, to: 32) - bytes.count + 128)
      return Data(bytes)
    }
    XCTAssertNoThrow(try GGUFFile.decode(twoTensors(secondName: "b", secondOffset: 64), file: "d.gguf"))
    assertThrows(
      try GGUFFile.decode(twoTensors(secondName: "a", secondOffset: 64), file: "d.gguf"),
      mentions: ["tensor info 1 name", "used once"])
    assertThrows(
      try GGUFFile.decode(twoTensors(secondName: "b", secondOffset: 32), file: "d.gguf"),
      mentions: ["\"b\" offset", "at least 64"])
  }

  func testUnsupportedTypeListsButDoesNotDecode() throws {
    var bytes = header(tensors: 1, entries: 0) + string("q") + le32(1) + le64(256) + le32(14) + le64(0)
    bytes += [UInt8](repeating: 0, count: GGUFWriter.padded(bytes.count, to: 32) - bytes.count + 210)
    let file = try GGUFFile.decode(Data(bytes), file: "q6.gguf")
    XCTAssertEqual(file.tensors[0].type, .q6K)
    XCTAssertEqual(file.tensors[0].byteCount, 210)
    assertThrows(try file.floats(of: file.tensors[0]), mentions: ["q6.gguf", "\"q\" type", "Q6_K is not supported"])
  }

  func testRandomDamageIsAnErrorOrAFileNeverACrash() throws {
    let valid = try GGUFWriter.encode(
      metadata: [("general.name", .string("x")), ("v", .strings(["a", "bc"])), ("f", .float32(1))],
      tensors: [
        GGUFTensor(name: "w", shape: [2, 256], values: (0..<512).map { Float($0) / 512 }, type: .q4K),
        GGUFTensor(name: "b", shape: [2], values: [1, 2], type: .f32),
      ])
    var state: UInt64 = 7
    var failures = 0
    for _ in 0..<3000 {
      var bytes = valid
      for _ in 0..<(1 + Int(state % 4)) {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        // Damage the header, where the structure lives.
        bytes[Int(state >> 33) % 200] = UInt8(truncatingIfNeeded: state >> 20)
      }
      do {
        let file = try GGUFFile.decode(Data(bytes), file: "r.gguf")
        for tensor in file.tensors where GGMLType.codable.contains(tensor.type) { _ = try file.floats(of: tensor) }
      } catch let error as LatheIOError {
        failures += 1
        XCTAssertFalse(error.description.contains("\n"), error.description)
      }
    }
    XCTAssertGreaterThan(failures, 100, "damage to the header is noticed")
  }

  func testReadingAMissingFileNamesIt() {
    assertThrows(
      try GGUFFile.read(from: URL(fileURLWithPath: "/nonexistent/x.gguf")),
      mentions: ["/nonexistent/x.gguf", "cannot read"])
  }

  // MARK: building damaged files

  private func header(tensors: UInt64, entries: UInt64, version: UInt32 = 3) -> [UInt8] {
    Array("GGUF".utf8) + le32(version) + le64(tensors) + le64(entries)
  }
  private func string(_ text: String) -> [UInt8] { le64(UInt64(text.utf8.count)) + Array(text.utf8) }
  private func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
  private func le64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
}

/// A file written by llama.cpp's own Python writer (`gguf` 0.19.0: `GGUFWriter(path, arch="test")`,
/// `add_name("fixture")`, the `test.*` keys below, and x = (arange(128).reshape(2, 64) % 37 - 18) / 8
/// as `w.f32` (x[:, :3]), `w.f16` (x[:, :5] as float16), and `gguf.quants.quantize(x, Q8_0 / Q4_0)`).
final class GGUFReferenceFileTests: XCTestCase {
  func testFileWrittenByTheGGUFPackage() throws {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("Fixtures/gguf-py-0.19.0.gguf")
    let file = try GGUFFile.read(from: url)
    XCTAssertEqual(file.version, 3)
    XCTAssertEqual(file.alignment, 32, "no general.alignment key: the default")
    XCTAssertEqual(file["general.architecture"], .string("test"))
    XCTAssertEqual(file["general.name"], .string("fixture"))
    XCTAssertEqual(file["test.u32"], .uint32(7))
    XCTAssertEqual(file["test.i32"], .int32(-3))
    XCTAssertEqual(file["test.f32"], .float32(0.5))
    XCTAssertEqual(file["test.flag"], .bool(true))
    XCTAssertEqual(file["test.tokens"], .strings(["a", "bc", "ü"]))
    XCTAssertEqual(file["test.ids"], .int32s([1, 2, 3]))
    XCTAssertEqual(file.tensors.map(\.name), ["w.f32", "w.f16", "w.q8_0", "w.q4_0"])
    XCTAssertEqual(file.tensors.map(\.type), [.f32, .f16, .q80, .q40])
    XCTAssertEqual(file.tensors.map(\.shape), [[2, 3], [2, 5], [2, 64], [2, 64]])

    let x = (0..<128).map { Float($0 % 37 - 18) / 8 }
    let columns = { (n: Int) in (0..<2).flatMap { row in x[(64 * row)..<(64 * row + n)] } }
    XCTAssertEqual(try file.floats(of: file.tensors[0]), columns(3))
    XCTAssertEqual(try file.floats(of: file.tensors[1]), columns(5), "every x is exact in fp16")
    // Lathe's encoders give the very bytes the gguf package's quantizers gave.
    XCTAssertEqual(file.data(of: file.tensors[1]), GGMLCodec.encode(columns(5), as: .f16))
    XCTAssertEqual(file.data(of: file.tensors[2]), GGMLCodec.encode(x, as: .q80))
    XCTAssertEqual(file.data(of: file.tensors[3]), GGMLCodec.encode(x, as: .q40))
  }
}
