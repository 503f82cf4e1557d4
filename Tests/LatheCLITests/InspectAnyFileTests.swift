import Foundation
import XCTest

/// `inspect` opens every valid file: an ONNX graph with operators Lathe lacks lists its nodes,
/// a safetensors file without a Lathe graph lists its tensors, both with exit status 0 and as
/// JSON; damaged files still give one line naming the file and exit 1.
extension CommandLineTests {
  // MARK: ONNX

  func testGraphWithUnknownOperatorsListsItsNodes() throws {
    let file = scratch.appendingPathComponent("hardswish.onnx")
    try onnxModel(nodes: [
      onnxNode("relu1", "Relu", inputs: ["x"], outputs: ["a"]),
      onnxNode("hs1", "HardSwishy", inputs: ["a"], outputs: ["b"]),
      onnxNode("hs2", "HardSwishy", inputs: ["b"], outputs: ["c"]),
      onnxNode("fused", "FusedThing", domain: "com.example", inputs: ["c", "w"], outputs: ["y"]),
    ]).write(to: file)
    let table = try lathe("inspect", file.path)
    XCTAssertEqual(table.status, 0, table.stderr)
    XCTAssertEqual(table.stderr, "")
    XCTAssertTrue(
      table.stdout.contains("3 of 4 nodes cannot run in Lathe: HardSwishy (2), com.example.FusedThing (1)"),
      table.stdout)
    let lines = table.stdout.split(separator: "\n")
    let relu = try XCTUnwrap(lines.first { $0.contains("relu1") })
    XCTAssertFalse(relu.contains("✗"), "Relu runs: \(relu)")
    XCTAssertTrue(relu.contains("x[N,4] → a"), "the input's shape, symbolic batch included: \(relu)")
    for name in ["hs1", "hs2", "fused"] {
      let row = try XCTUnwrap(lines.first { $0.contains(" \(name) ") }, table.stdout)
      XCTAssertTrue(row.hasPrefix("✗"), "\(name) cannot run and must be marked: \(row)")
    }
    XCTAssertTrue(table.stdout.contains("c, w[4] → y[N,4]"), "initializer and output shapes: \(table.stdout)")

    let json = try lathe("inspect", file.path, "--json")
    XCTAssertEqual(json.status, 0, json.stderr)
    XCTAssertEqual(json.json["kind"] as? String, "graph")
    XCTAssertEqual(json.json["runnable"] as? Bool, false)
    XCTAssertEqual(json.json["opset"] as? Int, 17)
    XCTAssertEqual(json.json["initializers"] as? Int, 1)
    XCTAssertEqual(json.json["inputs"] as? [String], ["x"])
    XCTAssertEqual(json.json["unsupported"] as? [String: Int], ["HardSwishy": 2, "com.example.FusedThing": 1])
    let nodes = try XCTUnwrap(json.json["nodes"] as? [[String: Any]])
    XCTAssertEqual(nodes.map { $0["name"] as? String }, ["relu1", "hs1", "hs2", "fused"])
    XCTAssertEqual(nodes.map { $0["runnable"] as? Bool }, [true, false, false, false])
    XCTAssertEqual(nodes[3]["inputs"] as? [String], ["c", "w"])
    let values = try XCTUnwrap(json.json["values"] as? [String: [String: Any]])
    XCTAssertEqual((values["x"]?["shape"] as? [Any])?.map { "\($0)" }, ["N", "4"])
    XCTAssertEqual(values["w"]?["element_type"] as? String, "float")
  }

  func testSupportedGraphKeepsTheLayerTable() throws {
    let file = scratch.appendingPathComponent("relu.onnx")
    try onnxModel(nodes: [onnxNode("relu1", "Relu", inputs: ["x"], outputs: ["y"])], initializer: false)
      .write(to: file)
    let table = try lathe("inspect", file.path)
    XCTAssertEqual(table.status, 0, table.stderr)
    XCTAssertTrue(table.stdout.contains("graph:"), table.stdout)
    XCTAssertFalse(table.stdout.contains("cannot run"), table.stdout)
    let json = try lathe("inspect", file.path, "--json")
    XCTAssertEqual(json.json["kind"] as? String, "model")
    XCTAssertNotNil(json.json["layers"] as? [[String: Any]], json.stdout)
  }

  func testFilesThatAreNotONNXStillFail() throws {
    let garbage = scratch.appendingPathComponent("garbage.onnx")
    try Data([0x08, 0x07, 0x3A, 0xFF, 0xFF, 0xFF, 0x0F, 0x01]).write(to: garbage)
    let noGraph = scratch.appendingPathComponent("nograph.onnx")
    try Data(field(1, varint: 8)).write(to: noGraph)
    for (file, words) in [(garbage, "not a protobuf"), (noGraph, "no graph")] {
      for arguments in [["inspect", file.path], ["inspect", file.path, "--json"]] {
        let outcome = try lathe(arguments)
        XCTAssertEqual(outcome.status, 1, outcome.stdout)
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains(file.lastPathComponent), outcome.stderr)
        XCTAssertTrue(outcome.stderr.contains(words), outcome.stderr)
        XCTAssertEqual(outcome.stdout, "")
      }
    }
  }

  // MARK: safetensors

  func testForeignSafetensorsListsEveryTensor() throws {
    let file = scratch.appendingPathComponent("checkpoint.safetensors")
    try Data(
      safetensors(
        [
          ("embed.weight", "BF16", [3, 2]), ("norm.weight", "F16", [2]), ("position_ids", "I64", [1, 3]),
          ("mask", "BOOL", [5]), ("scale", "F64", []),
        ],
        metadata: ["format": "pt"])
    ).write(to: file)
    let table = try lathe("inspect", file.path)
    XCTAssertEqual(table.status, 0, table.stderr)
    let lines = table.stdout.split(separator: "\n").map(String.init)
    func row(_ name: String) throws -> [Substring] {
      try XCTUnwrap(lines.first { $0.hasPrefix(name + " ") }, table.stdout).split(separator: " ")
    }
    XCTAssertEqual(try row("embed.weight"), ["embed.weight", "BF16", "[3,2]", "6", "12"])
    XCTAssertEqual(try row("norm.weight"), ["norm.weight", "F16", "[2]", "2", "4"])
    XCTAssertEqual(try row("position_ids"), ["position_ids", "I64", "[1,3]", "3", "24"])
    XCTAssertEqual(try row("mask"), ["mask", "BOOL", "[5]", "5", "5"])
    XCTAssertEqual(try row("scale"), ["scale", "F64", "[]", "1", "8"])
    XCTAssertEqual(try row("total"), ["total", "17", "53"])
    XCTAssertTrue(table.stdout.contains("bytes by dtype: BF16 12, BOOL 5, F16 4, F64 8, I64 24"), table.stdout)
    XCTAssertTrue(table.stdout.contains("format: pt"), table.stdout)

    let json = try lathe("inspect", file.path, "--json")
    XCTAssertEqual(json.status, 0, json.stderr)
    XCTAssertEqual(json.json["kind"] as? String, "tensors")
    XCTAssertEqual(json.json["data_bytes"] as? Int, 53)
    XCTAssertEqual(json.json["elements"] as? Int, 17)
    XCTAssertEqual(json.json["size_bytes"] as? Int, try Data(contentsOf: file).count)
    XCTAssertEqual(json.json["metadata"] as? [String: String], ["format": "pt"])
    XCTAssertEqual(json.json["dtypes"] as? [String: Int], ["BF16": 12, "BOOL": 5, "F16": 4, "F64": 8, "I64": 24])
    let tensors = try XCTUnwrap(json.json["tensors"] as? [[String: Any]])
    XCTAssertEqual(
      tensors.map { $0["name"] as? String }, ["embed.weight", "norm.weight", "position_ids", "mask", "scale"])
    XCTAssertEqual(tensors.map { $0["dtype"] as? String }, ["BF16", "F16", "I64", "BOOL", "F64"])
    XCTAssertEqual(tensors[2]["shape"] as? [Int], [1, 3])
    XCTAssertEqual(tensors[2]["data_offsets"] as? [Int], [16, 40])
  }

  func testDamagedForeignSafetensorsGiveOneLineErrors() throws {
    let good = [("a", "F16", [2]), ("b", "I64", [1])]
    let cases: [(name: String, bytes: [UInt8], words: String)] = [
      ("past-end", try safetensors(good, offsets: [[0, 4], [4, 400]], data: 12), "b.data_offsets"),
      ("size-mismatch", try safetensors(good, offsets: [[0, 6], [6, 14]]), "a.data_offsets"),
      (
        "shape-overflow",
        try safetensors([("a", "F16", [1 << 32, 1 << 32]), ("b", "I64", [1])], offsets: [[0, 0], [0, 8]]),
        "more bytes than fit in memory"
      ),
      (
        "bits-overflow",
        try safetensors([("a", "F64", [1 << 31, 1 << 30]), ("b", "I64", [1])], offsets: [[0, 0], [0, 8]]),
        "more bytes than fit in memory"
      ),
      ("unknown-dtype", try safetensors([("a", "F12", [2]), ("b", "I64", [1])]), "F12 is not supported"),
      ("gap", try safetensors(good, offsets: [[0, 4], [6, 14]]), "without gaps"),
      ("header-too-long", [0xFF, 0xFF, 0, 0, 0, 0, 0, 0] + Array("{}".utf8), "header length"),
    ]
    for (name, bytes, words) in cases {
      let file = scratch.appendingPathComponent("\(name).safetensors")
      try Data(bytes).write(to: file)
      for arguments in [["inspect", file.path], ["inspect", "--json", file.path]] {
        let outcome = try lathe(arguments)
        XCTAssertEqual(outcome.status, 1, "\(name): \(outcome.stdout)")
        XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, "\(name): \(outcome.stderr)")
        XCTAssertTrue(outcome.stderr.contains(file.lastPathComponent), "\(name): \(outcome.stderr)")
        XCTAssertTrue(outcome.stderr.contains(words), "\(name): \(outcome.stderr)")
      }
    }
  }

  // MARK: writing the files by hand (the CLI tests link LatheIO only)

  /// A safetensors file of zeros; `offsets` (one pair per tensor) overrides the computed ones,
  /// and `data` the size of the data section (else where the last tensor ends).
  private func safetensors(
    _ tensors: [(String, String, [Int])], metadata: [String: String] = [:], offsets: [[Int]]? = nil, data: Int? = nil
  ) throws -> [UInt8] {
    let bits = ["BOOL": 8, "F16": 16, "BF16": 16, "I64": 64, "F64": 64, "F12": 12]
    var header: [String: Any] = [:]
    if !metadata.isEmpty { header["__metadata__"] = metadata }
    var end = 0
    for (i, (name, dtype, shape)) in tensors.enumerated() {
      let bytes = shape.reduce(1, &*) &* (bits[dtype] ?? 8) / 8
      let range = offsets?[i] ?? [end, end + bytes]
      header[name] = ["dtype": dtype, "shape": shape, "data_offsets": range]
      end = max(end, range[1])
    }
    // Keys in the order given: JSONSerialization sorts nothing, so the header is built by hand.
    let body = try tensors.map { name, _, _ in
      "\"\(name)\":" + String(decoding: try JSONSerialization.data(withJSONObject: header[name]!), as: UTF8.self)
    }
    let meta =
      metadata.isEmpty
      ? []
      : ["\"__metadata__\":" + String(decoding: try JSONSerialization.data(withJSONObject: metadata), as: UTF8.self)]
    let json = Array(("{" + (meta + body).joined(separator: ",") + "}").utf8)
    let length = UInt64(json.count)
    let prefix = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * UInt64($0))) }
    return prefix + json + [UInt8](repeating: 0, count: data ?? end)
  }

  // Protobuf writers, also used by ONNXTestTimingTests for its backend-test folders.
  func varint(_ value: UInt64) -> [UInt8] {
    var v = value
    var out: [UInt8] = []
    while v >= 0x80 {
      out.append(UInt8(v & 0x7F) | 0x80)
      v >>= 7
    }
    return out + [UInt8(v)]
  }

  func field(_ number: Int, varint value: UInt64) -> [UInt8] {
    varint(UInt64(number << 3)) + varint(value)
  }

  func field(_ number: Int, _ payload: [UInt8]) -> [UInt8] {
    varint(UInt64(number << 3 | 2)) + varint(UInt64(payload.count)) + payload
  }

  func field(_ number: Int, _ text: String) -> [UInt8] { field(number, Array(text.utf8)) }

  /// NodeProto: input 1, output 2, name 3, op_type 4, domain 7.
  func onnxNode(
    _ name: String, _ op: String, domain: String = "", inputs: [String], outputs: [String]
  ) -> [UInt8] {
    inputs.flatMap { field(1, $0) } + outputs.flatMap { field(2, $0) } + field(3, name) + field(4, op)
      + (domain.isEmpty ? [] : field(7, domain))
  }

  /// ValueInfoProto (name 1, type 2) of a float tensor; a String dimension is symbolic.
  func valueInfo(_ name: String, _ dims: [Any]) -> [UInt8] {
    // TypeProto.tensor_type 1 -> Tensor: elem_type 1, shape 2 -> TensorShapeProto.dim 1 ->
    // Dimension: dim_value 1, dim_param 2.
    let shape = dims.flatMap { dim in
      field(1, (dim as? Int).map { field(1, varint: UInt64($0)) } ?? field(2, "\(dim)"))
    }
    return field(1, name) + field(2, field(1, field(1, varint: 1) + field(2, shape)))
  }

  /// ModelProto (ir_version 1, opset_import 8, graph 7) reading x[N,4] and writing y[N,4];
  /// with `initializer`, a float initializer w[4] (TensorProto: dims 1, data_type 2, name 8,
  /// raw_data 9). GraphProto: node 1, name 2, initializer 5, input 11, output 12.
  func onnxModel(nodes: [[UInt8]], initializer: Bool = true) -> Data {
    var graph = nodes.flatMap { field(1, $0) } + field(2, "g")
    if initializer {
      graph += field(
        5, field(1, varint: 4) + field(2, varint: 1) + field(8, "w") + field(9, [UInt8](repeating: 0, count: 16)))
    }
    graph += field(11, valueInfo("x", ["N", 4])) + field(12, valueInfo("y", ["N", 4]))
    let opset = field(8, field(1, "") + field(2, varint: 17))
    return Data(field(1, varint: 8) + opset + field(7, graph))
  }
}
