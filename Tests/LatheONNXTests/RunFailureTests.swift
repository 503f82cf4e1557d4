import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// Graphs with symbolic sizes are checked at load against made-up probe sizes; what only the
/// fed sizes reveal fails the run. A checked run (`ONNXGraph.checkedRun`,
/// `Model.checkedPredict`) throws a `RunFailure` naming the file, the node and why, and the
/// graph runs on afterwards with sizes that fit.
final class RunFailureTests: XCTestCase {
  private let path = "/models/symbolic.onnx"

  private func graph(_ model: Onnx_ModelProto) throws -> ONNXGraph {
    try ONNXImporter.load(data: ONNXBuild.data(model), path: path)
  }

  /// The failure `body` throws, or a test failure when it returns.
  private func failure(_ body: () throws -> Any) -> String {
    do {
      _ = try body()
      XCTFail("the run did not fail")
      return ""
    } catch {
      return "\(error)"
    }
  }

  private func assertNames(_ message: String, node: String, _ parts: String..., line: UInt = #line) {
    XCTAssertTrue(message.hasPrefix(path + ": "), message, line: line)
    XCTAssertTrue(message.contains("node \"\(node)\""), message, line: line)
    for part in parts { XCTAssertTrue(message.contains(part), message, line: line) }
  }

  private func graphAttribute(_ name: String, _ nodes: [Onnx_NodeProto], output: String) -> Onnx_AttributeProto {
    ONNXBuild.graphAttribute(name, nodes, outputs: [output])
  }

  /// x [3, N], c a scalar: for c > 0 the row sums of x; else x's only column, squeezed, which
  /// imports only when N is 1 and so is imported when first chosen.
  private func squeezingIf() -> Onnx_ModelProto {
    let thenBranch = graphAttribute(
      "then_branch", [ONNXBuild.node("ReduceSum", ["x", "axes"], ["t"], [Attr.int("keepdims", 0)])], output: "t")
    let elseBranch = graphAttribute("else_branch", [ONNXBuild.node("Squeeze", ["x", "axes"], ["e"])], output: "e")
    return ONNXBuild.model(
      nodes: [
        ONNXBuild.node("Greater", ["c", "zero"], ["cond"]),
        ONNXBuild.node("If", ["cond"], ["y"], name: "pick", [thenBranch, elseBranch]),
      ],
      initializers: [ONNXBuild.tensor("zero", [], [0]), ONNXBuild.int64s("axes", [1])],
      inputs: [ONNXBuild.value("x", [3, nil]), ONNXBuild.value("c", [])], outputs: ["y"], opset: 16)
  }

  func testDeferredBranchThatCannotImportForTheFedShapeFailsTheRun() throws {
    let graph = try graph(squeezingIf())
    let wide = Tensor<Float>(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
    let message = failure { try graph.checkedRun([wide, Tensor(0)]) }
    assertNames(message, node: "pick", "else branch", "[3, 2]")
    // The failure is the run's: sizes that fit run on the same graph.
    let column = Tensor<Float>(shape: [3, 1], scalars: [7, 8, 9])
    XCTAssertEqual(try graph.checkedRun([column, Tensor(0)])[0].scalars, [7, 8, 9])
    XCTAssertEqual(try graph.checkedRun([wide, Tensor(1)])[0].scalars, [3, 7, 11])
  }

  func testModelPredictionThrowsTheFailure() throws {
    // Zeros, the example inputs, pick the else-branch at the probe width: `model()` refuses
    // that (DeferredBranchTests); `Not` makes them pick the then-branch.
    var model = squeezingIf()
    model.graph.node[0].output = ["positive"]
    model.graph.node.insert(ONNXBuild.node("Not", ["positive"], ["cond"]), at: 1)
    let network = try graph(model).model()
    let wide = Tensor<Float>(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
    assertNames(failure { try network.checkedPredict(feeds: [wide, Tensor(1)]) }, node: "pick", "else branch")
    XCTAssertEqual(try network.checkedPredict(feeds: [wide, Tensor(0)])[0].scalars, [3, 7, 11])
  }

  func testRunTimeReshapeToAShapeThatDoesNotFitFailsTheRun() throws {
    // x [1, N] to y's shape [1, M]: the probes give N and M the same size; fed ones may
    // differ. (A leading 1: a first axis would be taken for the batch.)
    let model = ONNXBuild.model(
      nodes: [
        ONNXBuild.node("Shape", ["y"], ["s"]), ONNXBuild.node("Reshape", ["x", "s"], ["r"], name: "to_y"),
        ONNXBuild.node("Add", ["r", "y"], ["z"]),
      ], initializers: [], inputs: [ONNXBuild.value("x", [1, nil]), ONNXBuild.value("y", [1, nil])], outputs: ["z"],
      opset: 16)
    let graph = try graph(model)
    let message = failure { try graph.checkedRun([Tensor(shape: [1, 3], scalars: [1, 2, 3]), .zeros([1, 4])]) }
    assertNames(message, node: "to_y", "Reshape", "[1, 3]", "[1, 4]")
    let x = Tensor<Float>(shape: [1, 4], scalars: [1, 2, 3, 4])
    XCTAssertEqual(try graph.checkedRun([x, x])[0].scalars, [2, 4, 6, 8])
  }

  func testConstantReshapeThatDoesNotDivideTheFedSizeFailsTheRun() throws {
    // [1, N] to [2, -1] holds at the even probe sizes and for every even N only.
    let model = ONNXBuild.model(
      nodes: [ONNXBuild.node("Reshape", ["x", "pairs"], ["y"], name: "pairs_of_x")],
      initializers: [ONNXBuild.int64s("pairs", [2, -1])], inputs: [ONNXBuild.value("x", [1, nil])], outputs: ["y"],
      opset: 16)
    let graph = try graph(model)
    assertNames(failure { try graph.checkedRun([.zeros([1, 3])]) }, node: "pairs_of_x", "Reshape", "[1, 3]")
    XCTAssertEqual(try graph.checkedRun([.zeros([1, 6])])[0].shape, [2, 3])
  }

  func testScanInputsOfDifferentLengthsFailTheRun() throws {
    // A running sum over two sequences whose lengths are separate symbols.
    var body = Onnx_GraphProto()
    body.name = "body"
    body.node = [
      ONNXBuild.node("Add", ["s", "a"], ["sa"]), ONNXBuild.node("Add", ["sa", "b"], ["s_out"]),
      ONNXBuild.node("Identity", ["s_out"], ["o"]),
    ]
    body.input = ["s", "a", "b"].map { ONNXBuild.value($0, []) }
    body.output = ["s_out", "o"].map { ONNXBuild.value($0, []) }
    var attribute = Onnx_AttributeProto()
    attribute.name = "body"
    attribute.type = .graph
    attribute.g = body
    let model = ONNXBuild.model(
      nodes: [
        ONNXBuild.node(
          "Scan", ["s0", "a", "b"], ["s_final", "os"], name: "sum", [attribute, Attr.int("num_scan_inputs", 2)])
      ], initializers: [],
      inputs: [ONNXBuild.value("s0", [1, 2]), ONNXBuild.value("a", [nil, 1, 2]), ONNXBuild.value("b", [nil, 1, 2])],
      outputs: ["s_final", "os"], opset: 16)
    let graph = try graph(model)
    let message = failure { try graph.checkedRun([.zeros([1, 2]), .zeros([3, 1, 2]), .zeros([4, 1, 2])]) }
    assertNames(message, node: "sum", "Scan", "[3, 4]")
    let a = Tensor<Float>(shape: [2, 1, 2], scalars: [1, 2, 3, 4])
    XCTAssertEqual(try graph.checkedRun([.zeros([1, 2]), a, a])[0].scalars, [8, 12])
  }

  func testTooFewFeedsAreAnErrorNotAStop() throws {
    let graph = try graph(squeezingIf())
    XCTAssertTrue(failure { try graph.checkedRun([.zeros([3, 1])]) }.contains("2 inputs, got 1 feeds"))
  }
}
