import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheONNX

/// ONNX `If`: a run-time condition runs only the branch it picks (each branch reading values
/// of the enclosing graph), a constant one inlines its branch. Expected values are computed
/// here from the inputs.
final class ControlFlowTests: XCTestCase {
  private func branch(
    _ name: String, _ nodes: [Onnx_NodeProto], outputs: [String], initializers: [Onnx_TensorProto] = []
  )
    -> Onnx_AttributeProto
  {
    var g = Onnx_GraphProto()
    g.name = name
    g.node = nodes
    g.initializer = initializers
    g.output = outputs.map { ONNXBuild.value($0, []) }
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .graph
    a.g = g
    return a
  }

  /// then: (x * 2, x + k); else: (x - 1, x * x), with k a then-branch initializer. The
  /// condition is x's first element being positive.
  private func conditional(condition: [Onnx_NodeProto]) -> Onnx_ModelProto {
    let thenBranch = branch(
      "then_branch",
      [ONNXBuild.node("Mul", ["x", "two"], ["t0"]), ONNXBuild.node("Add", ["x", "k"], ["t1"])], outputs: ["t0", "t1"],
      initializers: [ONNXBuild.tensor("k", [1], [10])])
    let elseBranch = branch(
      "else_branch", [ONNXBuild.node("Sub", ["x", "one"], ["e0"]), ONNXBuild.node("Mul", ["x", "x"], ["e1"])],
      outputs: ["e0", "e1"])
    let nodes =
      condition + [ONNXBuild.node("If", ["cond"], ["y", "z"], name: "if", [thenBranch, elseBranch])]
    return ONNXBuild.model(
      nodes: nodes,
      initializers: [
        ONNXBuild.tensor("two", [1], [2]), ONNXBuild.tensor("one", [1], [1]), ONNXBuild.tensor("zero", [], [0]),
        ONNXBuild.int64s("first", [0]),
      ],
      inputs: [ONNXBuild.value("x", [nil, 3])], outputs: ["y", "z"], opset: 16)
  }

  func testRunTimeConditionPicksTheBranchPerRun() throws {
    let condition = [
      ONNXBuild.node("Flatten", ["x"], ["flat"], [Attr.int("axis", 0)]),
      ONNXBuild.node("Gather", ["flat", "first"], ["head"], [Attr.int("axis", 1)]),
      ONNXBuild.node("Greater", ["head", "zero"], ["cond1"]),
      ONNXBuild.node("Squeeze", ["cond1"], ["cond"]),
    ]
    let graph = try ONNXImporter.load(data: ONNXBuild.data(conditional(condition: condition)))
    XCTAssertEqual(graph.nodes.filter { $0.layer is ONNXIf }.count, 2, "one layer per output")
    let positive = Tensor<Float>(shape: [1, 3], scalars: [1, -2, 3])
    let out = graph.run([positive])
    XCTAssertEqual(out[0].scalars, [2, -4, 6])
    XCTAssertEqual(out[1].scalars, [11, 8, 13])
    let negative = Tensor<Float>(shape: [2, 3], scalars: [-1, 2, 0.5, 3, 4, 5])
    let back = graph.run([negative])
    XCTAssertEqual(back[0].scalars, negative.scalars.map { $0 - 1 })
    XCTAssertEqual(back[1].scalars, negative.scalars.map { $0 * $0 })
    // The model form runs it too, both outputs.
    let model = try graph.model()
    XCTAssertEqual(model.predict(feeds: [positive]).map(\.scalars), out.map(\.scalars))
  }

  /// A model file holds the branches once, in the first output's layer: the loaded model picks
  /// the branch per run as the imported one does, its two layers share one branches object, and
  /// a branch's weight (the then-branch's k) is the file's tensor, read back.
  func testIfModelSurvivesAModelFile() throws {
    let condition = [
      ONNXBuild.node("ReduceSum", ["x"], ["total"], [Attr.int("keepdims", 0)]),
      ONNXBuild.node("Greater", ["total", "zero"], ["cond"]),
    ]
    let model = try ONNXImporter.load(data: ONNXBuild.data(conditional(condition: condition))).model()
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-if-\(UUID()).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try ModelFile.save(model, to: url)
    let loaded = try ModelFile.load(from: url, builders: ONNXLayers.builders)
    for x in [[1, -2, 3], [-1, 2, -4, 0.5, 0, -3]] as [[Float]] {
      let feed = Tensor(shape: [x.count / 3, 3], scalars: x)
      XCTAssertEqual(loaded.predict(feeds: [feed]).map(\.scalars), model.predict(feeds: [feed]).map(\.scalars))
    }
    let layers = loaded.nodes.compactMap { $0.layer as? ONNXIf }
    XCTAssertEqual(layers.count, 2)
    XCTAssertTrue(layers[0].branches === layers[1].branches)
    let stored = loaded.storedTensors.map(\.name)
    XCTAssertEqual(stored, model.storedTensors.map(\.name))
    XCTAssertEqual(
      stored.filter { $0.contains(".then.") || $0.contains(".else.") }.count,
      NodeList.storedTensors(layers[0].branches.thenBranch.nodes).count
        + NodeList.storedTensors(layers[0].branches.elseBranch.nodes).count, "each branch tensor once")
    // A branch tensor the file lacks is refused by its full name, as a model's own would be.
    let branchTensor = try XCTUnwrap(stored.first { $0.hasPrefix("if.then.") }, "the then-branch's k is stored")
    var missing = Dictionary(uniqueKeysWithValues: loaded.storedTensors.map { ($0.name, $0.tensor) })
    missing[branchTensor] = nil
    XCTAssertThrowsError(try loaded.restore(from: missing)) {
      XCTAssertTrue("\($0)".contains(branchTensor), "\($0)")
    }
    // A tensor under the If's node that no branch node takes is refused by name.
    var tensors = Dictionary(uniqueKeysWithValues: loaded.storedTensors.map { ($0.name, $0.tensor) })
    tensors["if.then.nothing.weight"] = .float32(.zeros([1]))
    XCTAssertThrowsError(try loaded.restore(from: tensors)) {
      XCTAssertTrue("\($0)".contains("if.then.nothing.weight"), "\($0)")
    }
  }

  /// A file whose later If output names no earlier owner (damaged, or written before model
  /// files held branches) is refused, naming the op and what it expected.
  func testAnIfOutputWithoutItsOwnerIsRefused() {
    let spec = LayerSpec(op: "onnx.If", attributes: ["output": .int(1), "group": .string("if")])
    XCTAssertThrowsError(try ONNXLayers().makeLayer(spec)) {
      XCTAssertTrue("\($0)".contains("onnx.If") && "\($0)".contains("holds its branches"), "\($0)")
    }
    let broken = LayerSpec(op: "onnx.If", attributes: ["output": .int(0), "branches": .string("{")])
    XCTAssertThrowsError(try ONNXLayers().makeLayer(broken)) {
      XCTAssertTrue("\($0)".contains("subgraph description"), "\($0)")
    }
  }

  func testConstantConditionInlinesItsBranch() throws {
    let condition = [ONNXBuild.node("Constant", [], ["cond"], [Attr.tensor("value", ONNXBuild.tensor("c", [], [0]))])]
    let graph = try ONNXImporter.load(data: ONNXBuild.data(conditional(condition: condition)))
    XCTAssertFalse(graph.nodes.contains { $0.layer is ONNXIf })
    let x = Tensor<Float>(shape: [1, 3], scalars: [1, 2, 3])
    XCTAssertEqual(graph.run([x]).map(\.scalars), [[0, 1, 2], [1, 4, 9]])
  }

  func testIfOutputsKeepTheBranchesFloatTypeForADivAfterThem() throws {
    // The condition is boolean; the outputs are floats: y / z must not divide as integers
    // (truncating toward zero), whether the condition is known at run time or at load.
    let runTime = [
      ONNXBuild.node("Flatten", ["x"], ["flat"], [Attr.int("axis", 0)]),
      ONNXBuild.node("Gather", ["flat", "first"], ["head"], [Attr.int("axis", 1)]),
      ONNXBuild.node("Greater", ["head", "zero"], ["cond1"]),
      ONNXBuild.node("Squeeze", ["cond1"], ["cond"]),
    ]
    let atLoad = [ONNXBuild.node("Constant", [], ["cond"], [Attr.tensor("value", ONNXBuild.tensor("c", [], [1]))])]
    let x = Tensor<Float>(shape: [1, 3], scalars: [1, -2, 3])
    let expected = x.scalars.map { (2 * $0) / ($0 + 10) }
    for condition in [runTime, atLoad] {
      var m = conditional(condition: condition)
      m.graph.node.append(ONNXBuild.node("Div", ["y", "z"], ["q"]))
      m.graph.output = [ONNXBuild.value("q", [])]
      let graph = try ONNXImporter.load(data: ONNXBuild.data(m))
      let q = graph.run([x])[0].scalars
      for (a, e) in zip(q, expected) { XCTAssertEqual(a, e, accuracy: 1e-6, "\(q)") }
    }
  }

  func testBranchWithTheWrongOutputCountIsRefused() throws {
    var m = conditional(condition: [
      ONNXBuild.node("Constant", [], ["cond"], [Attr.tensor("value", ONNXBuild.tensor("c", [], [1]))])
    ])
    m.graph.node[1].output = ["y"]
    m.graph.output = [ONNXBuild.value("y", [])]
    XCTAssertThrowsError(try ONNXImporter.load(data: ONNXBuild.data(m))) {
      XCTAssertTrue("\($0)".contains("the branch has 2 outputs; the node 1"), "\($0)")
    }
  }
}

/// The gradient flows through the branch that ran.
extension GradientTests {
  func testIfGradientFollowsTheChosenBranch() {
    let square = Node("sq", ONNXOp(.mul), inputs: ["x", "x"])
    let branches = ONNXBranches(
      then: .init(nodes: [square], outputs: ["sq"]), else: .init(nodes: [], outputs: ["x"]), captured: ["x"])
    for flag: Float in [1, 0] {
      check([4]) { x in
        var context = ForwardContext(isTraining: true)
        return ONNXIf(branches, output: 0).forward([Variable(Tensor(flag)), x], context: &context)
      }
    }
  }
}
