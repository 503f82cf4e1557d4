import Foundation
import LatheIO
import LatheTensor
import LatheWorkspace
import XCTest

@testable import LatheONNX

/// GatherElements, GatherND, ScatterElements and ScatterND (`ONNXIndexOp`) against the examples
/// of ONNX's operator documentation; through the importer on run-time data, folded exactly on
/// integer constants, refused with messages; and saved, reloaded and exported again.
final class IndexOpTests: XCTestCase {
  func apply(_ kind: ONNXIndexOp.Kind, _ indices: [Int], _ indicesShape: [Int], _ inputs: Tensor<Float>...)
    -> Tensor<Float>
  {
    var context = ForwardContext.inference
    return ONNXIndexOp(kind, indices: indices, indicesShape: indicesShape).forward(
      inputs.map { Variable($0) }, context: &context
    ).value
  }

  func testGatherElements() {
    let square = Tensor<Float>(shape: [2, 2], scalars: [1, 2, 3, 4])
    XCTAssertEqual(apply(.gatherElements(axis: 1), [0, 0, 1, 0], [2, 2], square).scalars, [1, 1, 4, 3])
    let nine = Tensor<Float>(shape: [3, 3], scalars: (1...9).map { Float($0) })
    let y = apply(.gatherElements(axis: 0), [1, 2, 0, 2, 0, 0], [2, 3], nine)
    XCTAssertEqual(y.shape, [2, 3])
    XCTAssertEqual(y.scalars, [4, 8, 3, 7, 2, 3])
    XCTAssertEqual(apply(.gatherElements(axis: 0), [-1, -2, 0, -2, 0, 0], [2, 3], nine).scalars, [7, 5, 3, 4, 2, 3])
    // Indices smaller than the data off the axis read its leading corner.
    XCTAssertEqual(apply(.gatherElements(axis: 1), [2, 0], [1, 2], nine).scalars, [3, 1])
  }

  func testScatterElements() {
    let data = Tensor<Float>(shape: [1, 5], scalars: [1, 2, 3, 4, 5])
    func scatter(_ r: ONNXIndexOp.Reduction, _ indices: [Int]) -> [Float] {
      apply(
        .scatterElements(axis: 1, reduction: r), indices, [1, 2], data, Tensor(shape: [1, 2], scalars: [1.5, 2.5])
      ).scalars
    }
    XCTAssertEqual(scatter(.none, [1, 3]), [1, 1.5, 3, 2.5, 5])
    XCTAssertEqual(scatter(.none, [1, -1]), [1, 1.5, 3, 4, 2.5])
    // Two updates to element 1: applied in order.
    XCTAssertEqual(scatter(.none, [1, 1]), [1, 2.5, 3, 4, 5])
    XCTAssertEqual(scatter(.add, [1, 1]), [1, 6, 3, 4, 5])
    XCTAssertEqual(scatter(.mul, [1, 1]), [1, 7.5, 3, 4, 5])
    XCTAssertEqual(scatter(.max, [1, 1]), [1, 2.5, 3, 4, 5])
    XCTAssertEqual(scatter(.min, [1, 1]), [1, 1.5, 3, 4, 5])
    XCTAssertEqual(scatter(.min, [0, 4]), [1, 2, 3, 4, 2.5])
    let rows = Tensor<Float>(shape: [3, 3], scalars: Array(repeating: 0, count: 9))
    let y = apply(
      .scatterElements(axis: 0, reduction: .none), [1, 0, 2, 0, 2, 1], [2, 3], rows,
      Tensor(shape: [2, 3], scalars: [1, 1.1, 1.2, 2, 2.1, 2.2]))
    XCTAssertEqual(y.scalars, [2, 1.1, 0, 1, 0, 2.2, 0, 2.1, 1.2])
  }

  func testGatherND() {
    let square = Tensor<Float>(shape: [2, 2], scalars: [0, 1, 2, 3])
    XCTAssertEqual(apply(.gatherND(batchDims: 0), [0, 0, 1, 1], [2, 2], square).scalars, [0, 3])
    let rows = apply(.gatherND(batchDims: 0), [1, 0], [2, 1], square)
    XCTAssertEqual(rows.shape, [2, 2])
    XCTAssertEqual(rows.scalars, [2, 3, 0, 1])
    let cube = Tensor<Float>(shape: [2, 2, 2], scalars: (0..<8).map { Float($0) })
    XCTAssertEqual(apply(.gatherND(batchDims: 0), [0, 1, 1, 0], [2, 1, 2], cube).scalars, [2, 3, 4, 5])
    let batched = apply(.gatherND(batchDims: 1), [1, 0], [2, 1], cube)
    XCTAssertEqual(batched.shape, [2, 2])
    XCTAssertEqual(batched.scalars, [2, 3, 4, 5])
    XCTAssertEqual(apply(.gatherND(batchDims: 1), [-1, 1, 0, -2], [2, 2], cube).scalars, [3, 4])
  }

  func testScatterND() {
    let data = Tensor<Float>(shape: [8], scalars: (1...8).map { Float($0) })
    let updates = Tensor<Float>(shape: [4], scalars: [9, 10, 11, 12])
    XCTAssertEqual(
      apply(.scatterND(reduction: .none), [4, 3, 1, 7], [4, 1], data, updates).scalars, [1, 11, 3, 10, 9, 6, 7, 12])
    XCTAssertEqual(
      apply(.scatterND(reduction: .add), [4, 4, 1, 7], [4, 1], data, updates).scalars, [1, 13, 3, 4, 24, 6, 7, 20])
    XCTAssertEqual(
      apply(.scatterND(reduction: .mul), [0, 0, 1, 7], [4, 1], data, updates).scalars, [90, 22, 3, 4, 5, 6, 7, 96])
    // Whole rows.
    let grid = Tensor<Float>(shape: [3, 2], scalars: Array(repeating: 0, count: 6))
    let y = apply(.scatterND(reduction: .max), [2, 0], [2, 1], grid, Tensor(shape: [2, 2], scalars: [-1, 4, 5, -6]))
    XCTAssertEqual(y.scalars, [5, 0, 0, 0, 0, 4])
  }

  func testShapeRuleRefusals() {
    func refuses(_ layer: ONNXIndexOp, _ shapes: [[Int]], _ message: String, line: UInt = #line) {
      XCTAssertThrowsError(try layer.outputShape(for: shapes), line: line) {
        XCTAssertTrue("\($0)".contains(message), "\($0)", line: line)
      }
    }
    refuses(ONNXIndexOp(.gatherElements(axis: 0), indices: [3], indicesShape: [1]), [[3]], "out of range")
    refuses(ONNXIndexOp(.gatherElements(axis: 0), indices: [0], indicesShape: [1]), [[3, 2]], "same rank")
    refuses(ONNXIndexOp(.gatherElements(axis: 0), indices: [0, 0, 0], indicesShape: [1, 3]), [[3, 2]], "larger")
    refuses(
      ONNXIndexOp(.scatterElements(axis: 0, reduction: .add), indices: [0], indicesShape: [1]), [[3], [2]], "updates")
    refuses(ONNXIndexOp(.gatherND(batchDims: 0), indices: [0, 0, 0], indicesShape: [1, 3]), [[3, 2]], "do not index")
    refuses(ONNXIndexOp(.gatherND(batchDims: 1), indices: [0, 0], indicesShape: [2, 1]), [[3, 2]], "batch")
    refuses(ONNXIndexOp(.scatterND(reduction: .none), indices: [0, 1], indicesShape: [2, 1]), [[3]], "expects")
    XCTAssertEqual(
      try ONNXIndexOp(.gatherND(batchDims: 0), indices: [0, 1], indicesShape: [2, 1]).outputShape(for: [[3, 4, 5]]),
      [2, 4, 5])
  }

  // MARK: - Through the importer

  func int64s(_ name: String, _ shape: [Int], _ values: [Int]) -> Onnx_TensorProto {
    var t = ONNXBuild.int64s(name, values)
    t.dims = shape.map { Int64($0) }
    return t
  }

  func testRunTimeDataAndRefusals() throws {
    let nodes = [
      ONNXBuild.node("GatherElements", ["x", "i"], ["g"], [Attr.int("axis", -1)]),
      ONNXBuild.node("ScatterElements", ["x", "i", "g"], ["y"], [Attr.string("reduction", "add")]),
    ]
    let m = ONNXBuild.model(
      nodes: nodes, initializers: [int64s("i", [2, 2], [1, 0, 0, 0])], inputs: [ONNXBuild.value("x", [2, 2])],
      outputs: ["y"], opset: 18)
    let y = try ONNXImporter.load(data: ONNXBuild.data(m)).run([Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])])[0]
    // g = [[2, 1], [3, 3]], added along axis 0 at rows i: 2 to y[1][0], 1 and 3 to y[0][1], 3 to y[0][0].
    XCTAssertEqual(y.scalars, [4, 6, 5, 4])

    func load(_ nodes: [Onnx_NodeProto], _ initializers: [Onnx_TensorProto]) throws {
      let m = ONNXBuild.model(
        nodes: nodes, initializers: initializers, inputs: [ONNXBuild.value("x", [2, 2])], outputs: ["y"], opset: 18)
      _ = try ONNXImporter.load(data: ONNXBuild.data(m)).run([Tensor.zeros([2, 2])])
    }
    XCTAssertThrowsError(try load([ONNXBuild.node("GatherElements", ["x", "x"], ["y"])], [])) {
      XCTAssertTrue("\($0)".contains("constant"), "\($0)")
    }
    XCTAssertThrowsError(
      try load(
        [ONNXBuild.node("ScatterElements", ["x", "i", "x"], ["y"], [Attr.string("reduction", "sum")])],
        [int64s("i", [2, 2], [0, 0, 0, 0])])
    ) { XCTAssertTrue("\($0)".contains("reduction \"sum\""), "\($0)") }
    XCTAssertThrowsError(
      try load([ONNXBuild.node("GatherElements", ["x", "i"], ["y"])], [int64s("i", [1, 2], [0, 2])])
    ) { XCTAssertTrue("\($0)".contains("out of range"), "\($0)") }
  }

  /// Integer constants fold as integers: 2^40 + 1 survives a gather and a scatter (Equal against
  /// the exact values, which fp32 could not tell from 2^40).
  func testIntegerConstantsFoldExactly() throws {
    let big = 1 << 40
    let nodes = [
      ONNXBuild.node("GatherND", ["d", "i"], ["g"]),
      ONNXBuild.node("ScatterND", ["d", "j", "g"], ["s"], [Attr.string("reduction", "max")]),
      ONNXBuild.node("Equal", ["s", "want"], ["e"]),
      ONNXBuild.node("Cast", ["e"], ["ef"], [Attr.int("to", 1)]),
      ONNXBuild.node("Add", ["zero", "ef"], ["y"]),
    ]
    let m = ONNXBuild.model(
      nodes: nodes,
      initializers: [
        ONNXBuild.int64s("d", [big, big + 1, 5]), int64s("i", [1, 1], [1]), int64s("j", [1, 1], [0]),
        ONNXBuild.int64s("want", [big + 1, big + 1, 5]),
      ], inputs: [ONNXBuild.value("zero", [3])], outputs: ["y"], opset: 18)
    XCTAssertEqual(try ONNXImporter.load(data: ONNXBuild.data(m)).run([Tensor.zeros([3])])[0].scalars, [1, 1, 1])
  }

  func testSupportedListHoldsIndexOps() {
    XCTAssertEqual(ONNXConverters.indexOps.subtracting(ONNXConverters.supported), [])
    XCTAssertEqual(ONNXConverters.indexOps.count, 7)
  }

  // MARK: - Model files and export

  /// All four on a [1, 2, 3] input (constant indices fix the batch, as Lathe probes models
  /// with a batch of 1): saved, reloaded, exported (opset 18, for ScatterND's max) and
  /// imported again.
  func testSaveReloadAndExportAgain() throws {
    let nodes = [
      ONNXBuild.node("GatherElements", ["x", "ge"], ["a"], name: "a", [Attr.int("axis", 2)]),
      ONNXBuild.node(
        "ScatterElements", ["x", "ge", "a"], ["b"], name: "b", [Attr.int("axis", 2), Attr.string("reduction", "add")]),
      ONNXBuild.node("GatherND", ["b", "gn"], ["c"], name: "c", [Attr.int("batch_dims", 2)]),
      ONNXBuild.node("ScatterND", ["b", "sn", "c"], ["y"], name: "y", [Attr.string("reduction", "max")]),
    ]
    let m = ONNXBuild.model(
      nodes: nodes,
      initializers: [
        int64s("ge", [1, 2, 2], [2, 0, -1, 1]), int64s("gn", [1, 2, 1], [2, 0]),
        int64s("sn", [1, 2, 3], [0, 0, 1, 0, 1, 2]),
      ], inputs: [ONNXBuild.value("x", [1, 2, 3])], outputs: ["y"], opset: 18)
    let model = try ONNXImporter.load(data: ONNXBuild.data(m)).model()
    XCTAssertEqual(model.nodes.filter { $0.layer is ONNXIndexOp }.count, 4)
    let x = Tensor<Float>(shape: [1, 2, 3], scalars: [1, -2, 3, 4, 5, -6])
    let y = model.predict(x)
    // Within the batch of one: a = [[3, 1], [−6, 5]]; b = x with a added back where it came from: [[2, −2, 6], [4, 10, −12]];
    // c = [b[0][2], b[1][0]] = [6, 4]; y = b with b[0][1] = max(−2, 6), b[1][2] = max(−12, 4).
    XCTAssertEqual(y.scalars, [2, 6, 6, 4, 10, 4])

    let back = try savedAndReopened(model, x, expecting: y)

    let proto = try ONNXExporter.proto(back)
    XCTAssertEqual(proto.opsetImport.first?.version, 18, "ScatterND's max needs opset 18")
    let ops = Set(proto.graph.node.map(\.opType))
    XCTAssertTrue(ops.isSuperset(of: ["GatherElements", "ScatterElements", "GatherND", "ScatterND"]), "\(ops)")
    // Exports write the batch as symbolic; constant indices fix it, so the import is told it.
    let options = ONNXImportOptions(inputShapes: [proto.graph.input[0].name: [1, 2, 3]])
    let again = try ONNXImporter.load(data: ONNXExporter.data(back), options: options).model()
    XCTAssertEqual(again.predict(x).scalars, y.scalars)
  }
}
