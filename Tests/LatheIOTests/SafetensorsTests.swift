import LatheTensor
import XCTest

@testable import LatheIO

final class SafetensorsTests: XCTestCase {
  func testRoundTripOfEveryDTypeAndMetadata() throws {
    let original = SafetensorsFile(
      tensors: [
        (
          "fc1.weight",
          .float32(Tensor(shape: [2, 3], scalars: [1.5, -2, 0, .pi, -.infinity, 1e-30]))
        ),
        ("fc1.weight.q", .int8(Tensor(shape: [4], scalars: [-128, -1, 0, 127]))),
        ("pixels", .uint8(Tensor(shape: [2, 2], scalars: [0, 1, 128, 255]))),
        ("acc", .int32(Tensor(shape: [3], scalars: [.min, 0, .max]))),
        ("empty", .float32(Tensor(shape: [0, 3], scalars: []))),
        ("scale", .float32(Tensor(shape: [], scalars: [0.25]))),
      ],
      metadata: [
        "architecture": "mlp", "note": "quotes \" backslash \\ newline \n tab \t ünïcode ✓",
      ])
    let url = try temporaryDirectory().appendingPathComponent("model.safetensors")
    try original.write(to: url)
    let read = try SafetensorsFile.read(from: url)

    XCTAssertEqual(read.tensors.map(\.name), original.tensors.map(\.name))
    XCTAssertEqual(read.tensors.map(\.tensor), original.tensors.map(\.tensor))
    XCTAssertEqual(read.metadata, original.metadata)
    XCTAssertEqual(read["pixels"], original.tensors[2].tensor)
    XCTAssertNil(read["missing"])
  }

  func testHeaderLayoutMatchesTheFormatByteForByte() throws {
    let file = SafetensorsFile(
      tensors: [
        ("a", .uint8(Tensor(shape: [2], scalars: [7, 8]))),
        ("b", .int32(Tensor(shape: [1], scalars: [258]))),
      ],
      metadata: ["k": "v"])
    // 131 bytes of JSON padded with 5 spaces to 136 = 0x88, a multiple of 8.
    let json =
      #"{"__metadata__":{"k":"v"},"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"#
      + #""b":{"dtype":"I32","shape":[1],"data_offsets":[2,6]}}     "#
    let expected: [UInt8] =
      [0x88, 0, 0, 0, 0, 0, 0, 0] + Array(json.utf8) + [7, 8, 0x02, 0x01, 0, 0]
    XCTAssertEqual(try file.encode(), expected)
  }

  /// A file written by the reference implementation (Python `safetensors` 0.8.0,
  /// `safetensors.numpy.save` of the arrays below with metadata {"architecture": "mlp"}).
  /// Lathe must read it, and writing the same tensors in the same order must give the same bytes.
  func testReferenceImplementationFileReadsAndReencodesIdentically() throws {
    let base64 =
      "IAEAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJhcmNoaXRlY3R1cmUiOiJtbHAifSwiZmMxLndlaWdodCI6eyJkdHlwZSI6IkYzMiIs"
      + "InNoYXBlIjpbMiwzXSwiZGF0YV9vZmZzZXRzIjpbMCwyNF19LCJhY2MiOnsiZHR5cGUiOiJJMzIiLCJzaGFwZSI6WzNdLCJkYXRh"
      + "X29mZnNldHMiOlsyNCwzNl19LCJmYzEud2VpZ2h0X3EiOnsiZHR5cGUiOiJJOCIsInNoYXBlIjpbNF0sImRhdGFfb2Zmc2V0cyI6"
      + "WzM2LDQwXX0sInBpeGVscyI6eyJkdHlwZSI6IlU4Iiwic2hhcGUiOlsyLDJdLCJkYXRhX29mZnNldHMiOls0MCw0NF19fSAAAMA/"
      + "AAAAwAAAAAAAAFBAAAAAv28SgzoAAACAAAAAAP///3+A/wB/AAGA/w=="
    let bytes = try XCTUnwrap(Data(base64Encoded: base64)).map { $0 }
    let file = try SafetensorsFile.decode(bytes, file: "reference.safetensors")
    XCTAssertEqual(file.tensors.map(\.name), ["fc1.weight", "acc", "fc1.weight_q", "pixels"])
    XCTAssertEqual(
      file["fc1.weight"], .float32(Tensor(shape: [2, 3], scalars: [1.5, -2, 0, 3.25, -0.5, 1e-3])))
    XCTAssertEqual(file["acc"], .int32(Tensor(shape: [3], scalars: [.min, 0, .max])))
    XCTAssertEqual(file["fc1.weight_q"], .int8(Tensor(shape: [4], scalars: [-128, -1, 0, 127])))
    XCTAssertEqual(file["pixels"], .uint8(Tensor(shape: [2, 2], scalars: [0, 1, 128, 255])))
    XCTAssertEqual(file.metadata, ["architecture": "mlp"])
    XCTAssertEqual(try file.encode(), bytes)
  }

  func testReadsHandMadeFileWithUnpaddedHeaderInOffsetOrder() throws {
    // Header entries out of offset order, no padding, no metadata: still valid safetensors.
    let bytes = safetensors(
      #"{"second":{"dtype":"I8","shape":[1],"data_offsets":[4,5]},"#
        + #""first":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}"#,
      data: [0, 0, 0x80, 0x3f, 0xff])
    let file = try SafetensorsFile.decode(bytes, file: "hand.safetensors")
    XCTAssertEqual(file.tensors.map(\.name), ["first", "second"])
    XCTAssertEqual(file["first"], .float32(Tensor(shape: [], scalars: [1])))
    XCTAssertEqual(file["second"], .int8(Tensor(shape: [1], scalars: [-1])))
    XCTAssertEqual(file.metadata, [:])
  }

  func testZeroSizedTensorsKeepHeaderOrder() throws {
    let bytes = safetensors(
      #"{"z2":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"z1":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}"#,
      data: [])
    XCTAssertEqual(
      try SafetensorsFile.decode(bytes, file: "z.safetensors").tensors.map(\.name), ["z2", "z1"])
  }

  func testTruncatedFileAndHugeHeaderLength() {
    assertThrows(
      try SafetensorsFile.decode([1, 0, 0], file: "tiny.safetensors"),
      mentions: ["tiny.safetensors", "3-byte file"])
    let huge: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff] + Array("{}".utf8)
    assertThrows(
      try SafetensorsFile.decode(huge, file: "huge.safetensors"),
      mentions: ["huge.safetensors", "header length", "18446744073709551615"])
    assertThrows(
      try SafetensorsFile.read(from: URL(fileURLWithPath: "/nonexistent/m.safetensors")),
      mentions: ["m.safetensors"])
  }

  func testHeaderThatIsNotAJSONObject() {
    assertThrows(
      try SafetensorsFile.decode(safetensors("{not json", data: []), file: "bad.safetensors"),
      mentions: ["bad.safetensors", "header", "not valid JSON"])
    assertThrows(
      try SafetensorsFile.decode(safetensors("[1, 2]", data: []), file: "arr.safetensors"),
      mentions: ["arr.safetensors", "JSON object", "[1,2]"])
  }

  func testMissingFields() {
    for field in ["dtype", "shape", "data_offsets"] {
      var info = [#""dtype":"F32""#, #""shape":[1]"#, #""data_offsets":[0,4]"#]
      info.removeAll { $0.contains("\"\(field)\"") }
      let bytes = safetensors("{\"w\":{" + info.joined(separator: ",") + "}}", data: [0, 0, 0, 0])
      assertThrows(
        try SafetensorsFile.decode(bytes, file: "m.safetensors"),
        mentions: ["m.safetensors", "\"w.\(field)\"", "no such field"])
    }
    assertThrows(
      try SafetensorsFile.decode(safetensors(#"{"w":3}"#, data: []), file: "m.safetensors"),
      mentions: ["\"w\"", "an object with dtype"])
  }

  func testUnsupportedAndMalformedDType() {
    let bf16 = safetensors(
      #"{"w":{"dtype":"BF16","shape":[1],"data_offsets":[0,2]}}"#, data: [0, 0])
    assertThrows(
      try SafetensorsFile.decode(bf16, file: "m.safetensors"),
      mentions: ["m.safetensors", "\"w.dtype\"", "BF16 is not supported", "F32"])
    let number = safetensors(
      #"{"w":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])
    assertThrows(
      try SafetensorsFile.decode(number, file: "m.safetensors"), mentions: ["\"w.dtype\"", "got 4"])
  }

  func testBadShapes() {
    for shape in ["[-1]", "[2.5]", "[true]", "\"3\"", "[1e3]"] {
      let bytes = safetensors(
        #"{"w":{"dtype":"U8","shape":"# + shape + #","data_offsets":[0,1]}}"#, data: [0])
      assertThrows(
        try SafetensorsFile.decode(bytes, file: "m.safetensors"),
        mentions: ["m.safetensors", "\"w.shape\"", "non-negative integers"])
    }
    // A product that overflows Int must be an error, not a trap.
    let overflow = safetensors(
      #"{"w":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}"#,
      data: [0, 0, 0, 0])
    assertThrows(
      try SafetensorsFile.decode(overflow, file: "m.safetensors"),
      mentions: ["\"w.data_offsets\"", "more bytes than fit in memory"])
  }

  func testOffsetsOutOfRangeOrNotMatchingTheShape() {
    let outside = safetensors(
      #"{"fc1.weight":{"dtype":"F32","shape":[1250],"data_offsets":[0,5000]}}"#,
      data: [UInt8](repeating: 0, count: 1200))
    assertThrows(
      try SafetensorsFile.decode(outside, file: "model.safetensors"),
      mentions: [
        #"model.safetensors: header field "fc1.weight.data_offsets": "#
          + "expected [begin, end] within the 1200-byte data section, got [0,5000]"
      ])
    for offsets in ["[4,0]", "[-1,3]", "[0]", "[0,1,2]", "\"0-4\""] {
      let bytes = safetensors(
        #"{"w":{"dtype":"U8","shape":[4],"data_offsets":"# + offsets + "}}", data: [0, 0, 0, 0])
      assertThrows(
        try SafetensorsFile.decode(bytes, file: "m.safetensors"),
        mentions: ["\"w.data_offsets\"", "[begin, end]"])
    }
    let mismatch = safetensors(
      #"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#,
      data: [UInt8](repeating: 0, count: 20))
    assertThrows(
      try SafetensorsFile.decode(mismatch, file: "m.safetensors"),
      mentions: ["\"w.data_offsets\"", "24 bytes", "[2, 3]", "F32", "20 bytes"])
  }

  func testOverlapsGapsAndTrailingBytes() {
    let overlap = safetensors(
      #"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#,
      data: [UInt8](repeating: 0, count: 6))
    assertThrows(
      try SafetensorsFile.decode(overlap, file: "m.safetensors"),
      mentions: ["m.safetensors", "\"b.data_offsets\"", "overlaps \"a\""])
    let gap = safetensors(
      #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}"#,
      data: [UInt8](repeating: 0, count: 6))
    assertThrows(
      try SafetensorsFile.decode(gap, file: "m.safetensors"),
      mentions: ["\"b.data_offsets\"", "starting at byte 2"])
    let trailing = safetensors(
      #"{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#, data: [1, 2, 3])
    assertThrows(
      try SafetensorsFile.decode(trailing, file: "m.safetensors"),
      mentions: ["data section", "got 3 bytes"])
  }

  func testMetadataMustHoldStrings() {
    let number = safetensors(#"{"__metadata__":{"epochs":3}}"#, data: [])
    assertThrows(
      try SafetensorsFile.decode(number, file: "m.safetensors"),
      mentions: ["m.safetensors", "\"__metadata__.epochs\"", "a string", "got 3"])
    let notObject = safetensors(#"{"__metadata__":["a"]}"#, data: [])
    assertThrows(
      try SafetensorsFile.decode(notObject, file: "m.safetensors"), mentions: ["\"__metadata__\""])
  }

  func testDuplicateNamesAreRejectedBothWays() {
    let duplicate = safetensors(
      #"{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}"#,
      data: [1, 2])
    assertThrows(
      try SafetensorsFile.decode(duplicate, file: "m.safetensors"),
      mentions: ["m.safetensors", "header field \"a\"", "more than once"])
    let tensor = AnyTensor.uint8(Tensor(shape: [1], scalars: [1]))
    assertThrows(
      try SafetensorsFile(tensors: [("a", tensor), ("a", tensor)]).encode(),
      mentions: ["\"a\" appears twice"])
    assertThrows(
      try SafetensorsFile(tensors: [("__metadata__", tensor)]).encode(), mentions: ["reserved"])
  }

  func testWriteReplacesAtomicallyAndLeavesNoTemporaryFiles() throws {
    let directory = try temporaryDirectory()
    let url = directory.appendingPathComponent("m.safetensors")
    try SafetensorsFile(metadata: ["v": "1"]).write(to: url)
    try SafetensorsFile(metadata: ["v": "2"]).write(to: url)
    XCTAssertEqual(try SafetensorsFile.read(from: url).metadata, ["v": "2"])
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(atPath: directory.path), ["m.safetensors"])
    assertThrows(
      try SafetensorsFile().write(
        to: directory.appendingPathComponent("no/such/dir/m.safetensors")),
      mentions: ["no/such/dir/m.safetensors", "cannot write"])
  }

  /// A safetensors file assembled by hand: the header's length, the header, the data.
  private func safetensors(_ header: String, data: [UInt8]) -> [UInt8] {
    let length = UInt64(header.utf8.count)
    return (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + Array(header.utf8) + data
  }
}
