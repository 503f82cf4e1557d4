import Foundation
import LatheIO
import LatheTensor
import LatheWorkspace
import XCTest

@testable import LatheONNX

/// CumProd, Hardmax and LpPool (`ONNXScanOp`, `ONNXLpPool`) against hand-computed values
/// (ONNX's reference semantics); Range and BitShift folded at load, exactly, and refused on
/// run-time inputs; and a model holding the layers saved, reloaded and exported again.
final class ScanOpTests: XCTestCase {
  func apply(_ kind: ONNXScanOp.Kind, _ x: Tensor<Float>) -> Tensor<Float> {
    var context = ForwardContext.inference
    return ONNXScanOp(kind).forward([Variable(x)], context: &context).value
  }

  func testCumProd() {
    let x = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 0, 6])
    func cumProd(_ axis: Int, exclusive: Bool = false, reverse: Bool = false) -> [Float] {
      apply(.cumProd(axis: axis, exclusive: exclusive, reverse: reverse), x).scalars
    }
    XCTAssertEqual(cumProd(1), [1, 2, 6, 4, 0, 0])
    XCTAssertEqual(cumProd(0), [1, 2, 3, 4, 0, 18])
    XCTAssertEqual(cumProd(1, exclusive: true), [1, 1, 2, 1, 4, 0])
    XCTAssertEqual(cumProd(1, reverse: true), [6, 6, 3, 0, 0, 6])
    XCTAssertEqual(cumProd(1, exclusive: true, reverse: true), [6, 3, 1, 0, 6, 1])
  }

  func testHardmax() {
    let x = Tensor<Float>(shape: [2, 2, 2], scalars: [1, 5, 5, 2, 3, 3, 0, 9])
    // Opset 13: along one axis; the first maximum wins a tie.
    XCTAssertEqual(apply(.hardmax(axis: 2, coerced: false), x).scalars, [0, 1, 1, 0, 1, 0, 0, 1])
    XCTAssertEqual(apply(.hardmax(axis: 1, coerced: false), x).scalars, [0, 1, 1, 0, 1, 0, 0, 1])
    // Coerced (before 13): one maximum over axes 1 and 2 together, per batch element.
    XCTAssertEqual(apply(.hardmax(axis: 1, coerced: true), x).scalars, [0, 1, 0, 0, 0, 0, 0, 1])
    XCTAssertEqual(apply(.hardmax(axis: 0, coerced: true), x).scalars, [0, 0, 0, 0, 0, 0, 0, 1])
    XCTAssertEqual(
      apply(.hardmax(axis: 0, coerced: false), Tensor(shape: [3], scalars: [.nan, 1, 2])).scalars, [0, 0, 1],
      "NaN is not picked over a number")
  }

  func testLpPool() {
    let x = Tensor<Float>(shape: [1, 1, 2, 3], scalars: [3, -4, 0, 1, 2, -2])
    func pool(_ p: Int, _ window: WindowND) -> Tensor<Float> {
      var context = ForwardContext.inference
      return ONNXLpPool(p: p, window: window).forward([Variable(x)], context: &context).value
    }
    let rows = WindowND(kernel: [1, 2], stride: [1, 1], pads: [0, 0, 0, 0], dilation: [1, 1])
    func close(_ got: Tensor<Float>, _ want: [Float], line: UInt = #line) {
      XCTAssertEqual(got.count, want.count, line: line)
      for (a, b) in zip(got.scalars, want) { XCTAssertEqual(a, b, accuracy: 1e-5, line: line) }
    }
    close(pool(2, rows), [5, 4, sqrtf(5), sqrtf(8)])
    close(pool(1, rows), [7, 4, 3, 4])
    XCTAssertEqual(pool(1, rows).shape, [1, 1, 2, 2])
    // Padding counts as 0; a dilated window skips the middle column.
    let padded = WindowND(kernel: [2, 2], stride: [2, 2], pads: [0, 0, 0, 1], dilation: [1, 1])
    close(pool(1, padded), [10, 2])
    let dilated = WindowND(kernel: [1, 2], stride: [1, 1], pads: [0, 0, 0, 0], dilation: [1, 2])
    close(pool(2, dilated), [3, sqrtf(5)])
  }

  // MARK: - Through the importer

  /// An integer tensor of `type` (int32_data carries 8 to 32 bits, uint64_data uint64).
  func integers(_ name: String, _ type: Onnx_TensorProto.DataType, _ shape: [Int], _ values: [Int]) -> Onnx_TensorProto
  {
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = shape.map { Int64($0) }
    t.dataType = Int32(type.rawValue)
    switch type {
    case .int64: t.int64Data = values.map { Int64($0) }
    case .uint64, .uint32: t.uint64Data = values.map { UInt64(bitPattern: Int64($0)) }
    default: t.int32Data = values.map { Int32($0) }
    }
    return t
  }

  /// The graph's output for `nodes` ending in `value`, added to a run-time zero so a folded
  /// constant comes out as a tensor.
  func folded(
    _ nodes: [Onnx_NodeProto], _ initializers: [Onnx_TensorProto], _ value: String, count: Int, opset: Int = 18
  ) throws -> [Float] {
    let m = ONNXBuild.model(
      nodes: nodes + [ONNXBuild.node("Add", ["zero", value], ["y"])], initializers: initializers,
      inputs: [ONNXBuild.value("zero", [count])], outputs: ["y"], opset: opset)
    return try ONNXImporter.load(data: ONNXBuild.data(m)).run([Tensor.zeros([count])])[0].scalars
  }

  func testRange() throws {
    func range(_ type: Onnx_TensorProto.DataType, _ s: Int, _ l: Int, _ d: Int, count: Int) throws -> [Float] {
      try folded(
        [ONNXBuild.node("Range", ["s", "l", "d"], ["r"]), ONNXBuild.node("Cast", ["r"], ["rf"], [Attr.int("to", 1)])],
        [integers("s", type, [], [s]), integers("l", type, [], [l]), integers("d", type, [], [d])], "rf",
        count: count)
    }
    XCTAssertEqual(try range(.int64, 1, 8, 3, count: 3), [1, 4, 7])
    XCTAssertEqual(try range(.int32, 10, 6, -3, count: 2), [10, 7])
    XCTAssertEqual(try range(.int64, -2, 3, 2, count: 3), [-2, 0, 2])
    let floats = try folded(
      [ONNXBuild.node("Range", ["s", "l", "d"], ["r"])],
      [ONNXBuild.tensor("s", [], [0.5]), ONNXBuild.tensor("l", [], [2]), ONNXBuild.tensor("d", [], [0.5])], "r",
      count: 3)
    XCTAssertEqual(floats, [0.5, 1, 1.5])
    // Exact past fp32: 2^40 + 1 and 2^40 + 3 stay apart (Equal against the exact values).
    let big = 1 << 40
    let exact = try folded(
      [
        ONNXBuild.node("Range", ["s", "l", "d"], ["r"]), ONNXBuild.node("Equal", ["r", "want"], ["e"]),
        ONNXBuild.node("Cast", ["e"], ["ef"], [Attr.int("to", 1)]),
      ],
      [
        integers("s", .int64, [], [big + 1]), integers("l", .int64, [], [big + 4]),
        integers("d", .int64, [], [2]), ONNXBuild.int64s("want", [big + 1, big + 3]),
      ], "ef", count: 2)
    XCTAssertEqual(exact, [1, 1])
  }

  func testBitShift() throws {
    func shift(
      _ type: Onnx_TensorProto.DataType, _ x: [Int], _ by: [Int], _ direction: String
    ) throws -> [Float] {
      try folded(
        [
          ONNXBuild.node("BitShift", ["x", "by"], ["s"], [Attr.string("direction", direction)]),
          ONNXBuild.node("Cast", ["s"], ["sf"], [Attr.int("to", 1)]),
        ],
        [integers("x", type, [x.count], x), integers("by", type, [by.count], by)], "sf", count: x.count)
    }
    XCTAssertEqual(try shift(.uint8, [16, 4, 1], [1, 2, 3], "LEFT"), [32, 16, 8])
    XCTAssertEqual(try shift(.uint8, [16, 4, 1], [1, 2, 3], "RIGHT"), [8, 1, 0])
    XCTAssertEqual(try shift(.uint8, [200, 255], [1, 8], "LEFT"), [144, 0], "bits past 8 are lost")
    XCTAssertEqual(try shift(.int8, [64, 1, -64], [1, 7, 1], "LEFT"), [-128, -128, -128])
    XCTAssertEqual(try shift(.int8, [-8, -1, 4], [1, 9, -1], "RIGHT"), [-4, -1, 0])
    XCTAssertEqual(try shift(.uint32, [1, 3], [31, 31], "LEFT"), [2_147_483_648, 2_147_483_648])
    XCTAssertEqual(try shift(.uint64, [-1], [60], "RIGHT"), [15], "uint64's top bit is not a sign")
  }

  func testRefusals() {
    let x = Tensor<Float>(shape: [3], scalars: [1, 2, 3])
    func load(_ nodes: [Onnx_NodeProto], _ initializers: [Onnx_TensorProto], opset: Int = 18) throws {
      let m = ONNXBuild.model(
        nodes: nodes, initializers: initializers, inputs: [ONNXBuild.value("x", x.shape)], outputs: ["y"],
        opset: opset)
      _ = try ONNXImporter.load(data: ONNXBuild.data(m)).run([x])
    }
    let scalars = [ONNXBuild.tensor("one", [], [1]), ONNXBuild.tensor("zero", [], [0])]
    XCTAssertThrowsError(try load([ONNXBuild.node("Range", ["x", "one", "one"], ["y"])], scalars)) {
      XCTAssertTrue("\($0)".contains("scalars"), "\($0)")
    }
    XCTAssertThrowsError(try load([ONNXBuild.node("Range", ["zero", "one", "zero"], ["y"])], scalars)) {
      XCTAssertTrue("\($0)".contains("delta is 0") || "\($0)".contains("not finite"), "\($0)")
    }
    XCTAssertThrowsError(
      try load(
        [ONNXBuild.node("BitShift", ["x", "b"], ["y"], [Attr.string("direction", "LEFT")])],
        [integers("b", .uint8, [1], [1])])
    ) { XCTAssertTrue("\($0)".contains("constant"), "\($0)") }
    XCTAssertThrowsError(
      try load(
        [
          ONNXBuild.node("BitShift", ["a", "a"], ["s"], [Attr.string("direction", "UP")]),
          ONNXBuild.node("Add", ["x", "s"], ["y"]),
        ],
        [integers("a", .uint8, [1], [1])])
    ) { XCTAssertTrue("\($0)".contains("LEFT or RIGHT"), "\($0)") }
    XCTAssertThrowsError(
      try load([ONNXBuild.node("Hardmax", ["x"], ["y"], [Attr.int("axis", 1)])], [])
    ) { XCTAssertTrue("\($0)".contains("out of range"), "\($0)") }
    XCTAssertThrowsError(
      try load([ONNXBuild.node("LpPool", ["x"], ["y"], [Attr.ints("kernel_shape", [2])])], [])
    ) { XCTAssertTrue("\($0)".contains("no spatial axis"), "\($0)") }
  }

  func testSupportedListHoldsScanOps() {
    XCTAssertEqual(ONNXConverters.scanOps.subtracting(ONNXConverters.supported), [])
    XCTAssertEqual(ONNXConverters.scanOps.count, 6)
  }

  // MARK: - Model files and export

  /// CumProd, the coerced Hardmax (opset 12) and LpPool in one graph: saved, reloaded, exported
  /// (opset 26, for CumProd; Hardmax in opset 13's form) and imported again.
  func testSaveReloadAndExportAgain() throws {
    let nodes = [
      ONNXBuild.node("CumProd", ["x", "axis"], ["c"], name: "c", [Attr.int("exclusive", 1)]),
      ONNXBuild.node("Hardmax", ["c"], ["h"], name: "h"),
      ONNXBuild.node(
        "LpPool", ["x"], ["p"], name: "p",
        [Attr.int("p", 3), Attr.ints("kernel_shape", [2, 2]), Attr.ints("pads", [1, 0, 0, 1])]),
      ONNXBuild.node("Add", ["h", "c"], ["y"], name: "y"),
      ONNXBuild.node("ReduceSum", ["p"], ["ps"], name: "ps", [Attr.int("keepdims", 1)]),
      ONNXBuild.node("Add", ["y", "ps"], ["z"], name: "z"),
    ]
    let m = ONNXBuild.model(
      nodes: nodes, initializers: [ONNXBuild.int64s("axis", [-1])], inputs: [ONNXBuild.value("x", [nil, 2, 3, 3])],
      outputs: ["z"], opset: 12)
    let model = try ONNXImporter.load(data: ONNXBuild.data(m)).model()
    XCTAssertTrue(model.nodes.contains { ($0.layer as? ONNXScanOp)?.kind == .hardmax(axis: 1, coerced: true) })
    XCTAssertTrue(model.nodes.contains { $0.layer is ONNXLpPool })
    var g = SeededGenerator(seed: 7)
    let x = Tensor<Float>.uniform([2, 2, 3, 3], low: -1, high: 1, generator: &g)
    let y = model.predict(x)
    XCTAssertEqual(y.shape, [2, 2, 3, 3])

    let back = try savedAndReopened(model, x, expecting: y)

    let proto = try ONNXExporter.proto(back)
    XCTAssertEqual(proto.opsetImport.first?.version, 26, "CumProd needs opset 26")
    let ops = proto.graph.node.map(\.opType)
    XCTAssertTrue(Set(ops).isSuperset(of: ["CumProd", "Hardmax", "Flatten", "LpPool"]), "\(ops)")
    let again = try ONNXImporter.load(data: ONNXExporter.data(back)).model()
    XCTAssertEqual(again.predict(x).scalars, y.scalars)
  }
}
