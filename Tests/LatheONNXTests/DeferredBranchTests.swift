import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheONNX

/// A run-time `If` whose branch holds only for some sizes of a symbolic dimension: that branch
/// does not import at the probe sizes and is imported when a run first picks it (silero-vad's
/// 8 kHz network squeezes an axis that is 1 only at real sizes). Expected values are computed
/// here from the inputs.
final class DeferredBranchTests: XCTestCase {
  private let weight: [Float] = [1, -2, 0.5, 3, 0, -1, 2, 1, 4]

  private func branch(_ name: String, _ nodes: [Onnx_NodeProto], output: String, initializers: [Onnx_TensorProto])
    -> Onnx_AttributeProto
  {
    ONNXBuild.graphAttribute(name, nodes, outputs: [output], initializers: initializers)
  }

  /// x [3, N], c a scalar. then: 2 * the row sums of x, [3]. else: x squeezed to [3] (only
  /// when N is 1), as a row times the outer graph's 3x3 weight, back to [3]. The then-branch
  /// runs when c > 0 (`negate`: when it is not).
  private func model(negate: Bool = false, thenSqueezes: Bool = false, fixedWidth: Int? = nil) -> Onnx_ModelProto {
    let squeeze = { (out: String, axes: String) in
      [
        ONNXBuild.node("Squeeze", ["x", axes], [out + "_sq"]),
        ONNXBuild.node("Unsqueeze", [out + "_sq", "zero_axis_" + out], [out + "_row"]),
        ONNXBuild.node("MatMul", [out + "_row", "w"], [out + "_prod"]),
        ONNXBuild.node("Reshape", [out + "_prod", "flat_" + out], [out]),
      ]
    }
    let squeezeInitializers = { (out: String, axes: String) in
      [
        ONNXBuild.int64s(axes, [1]), ONNXBuild.int64s("zero_axis_" + out, [0]), ONNXBuild.int64s("flat_" + out, [3]),
      ]
    }
    let thenBranch =
      thenSqueezes
      ? branch("then_branch", squeeze("t", "t_axes"), output: "t", initializers: squeezeInitializers("t", "t_axes"))
      : branch(
        "then_branch",
        [
          ONNXBuild.node("ReduceSum", ["x", "t_axes"], ["t_sum"], [Attr.int("keepdims", 0)]),
          ONNXBuild.node("Mul", ["t_sum", "two"], ["t"]),
        ], output: "t", initializers: [ONNXBuild.int64s("t_axes", [1])])
    let elseBranch = branch(
      "else_branch", squeeze("e", "e_axes"), output: "e", initializers: squeezeInitializers("e", "e_axes"))
    var condition = [ONNXBuild.node("Greater", ["c", "zero"], negate ? ["positive"] : ["cond"])]
    if negate { condition.append(ONNXBuild.node("Not", ["positive"], ["cond"])) }
    return ONNXBuild.model(
      nodes: condition + [ONNXBuild.node("If", ["cond"], ["y"], name: "if", [thenBranch, elseBranch])],
      initializers: [
        ONNXBuild.tensor("two", [], [2]), ONNXBuild.tensor("zero", [], [0]), ONNXBuild.tensor("w", [3, 3], weight),
      ],
      inputs: [ONNXBuild.value("x", [3, fixedWidth]), ONNXBuild.value("c", [])], outputs: ["y"], opset: 16)
  }

  private func thenValues(_ x: Tensor<Float>) -> [Float] {
    let width = x.shape[1]
    return (0..<3).map { r in 2 * (0..<width).reduce(0) { $0 + x.scalars[r * width + $1] } }
  }

  private func elseValues(_ x: Tensor<Float>) -> [Float] {
    (0..<3).map { j in (0..<3).reduce(0) { $0 + x.scalars[$1] * weight[$1 * 3 + j] } }
  }

  private func ifLayer(_ graph: ONNXGraph) -> ONNXIf? { graph.nodes.lazy.compactMap { $0.layer as? ONNXIf }.first }

  func testBranchThatFailsAtTheProbeSizesImportsWhenChosen() throws {
    let graph = try ONNXImporter.load(data: ONNXBuild.data(model()))
    let layer = try XCTUnwrap(ifLayer(graph))
    XCTAssertNil(layer.branches.thenBranch.deferred)
    XCTAssertNotNil(layer.branches.elseBranch.deferred, "Squeeze of a 320-wide axis cannot import")
    var g = SeededGenerator(seed: 5)
    let wide = Tensor<Float>.uniform([3, 5], low: -1, high: 1, generator: &g)
    let column = Tensor<Float>.uniform([3, 1], low: -1, high: 1, generator: &g)
    let other = Tensor<Float>.uniform([3, 1], low: -1, high: 1, generator: &g)
    let (yes, no) = (Tensor<Float>(1), Tensor<Float>(0))
    assertClose(graph.run([wide, yes])[0], thenValues(wide))
    assertClose(graph.run([column, no])[0], elseValues(column))
    // The second run of those shapes reuses the branch imported by the first.
    assertClose(graph.run([other, no])[0], elseValues(other))
    assertClose(graph.run([column, yes])[0], thenValues(column))
  }

  func testEachBranchFailingAtTheProbeSizesFailsTheImport() {
    XCTAssertThrowsError(try ONNXImporter.load(data: ONNXBuild.data(model(thenSqueezes: true)))) {
      XCTAssertTrue("\($0)".contains("node \"if\" (If)"), "\($0)")
    }
  }

  func testWithFixedSizesABranchThatFailsFailsTheImport() {
    // No size is made up: the else-branch's Squeeze of a 5-wide axis is the file's own error.
    XCTAssertThrowsError(try ONNXImporter.load(data: ONNXBuild.data(model(fixedWidth: 5)))) {
      XCTAssertTrue("\($0)".contains("Squeeze"), "\($0)")
    }
  }

  /// A branch imported only when a run picks it is not nodes a file can hold: saving says so,
  /// naming the node, and writes nothing.
  func testAModelWithADeferredBranchIsNotSaved() throws {
    // Zeros (the example inputs) pick the then-branch, which imported: the model can be made.
    let model = try ONNXImporter.load(data: ONNXBuild.data(model(negate: true))).model()
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-deferred-\(UUID()).safetensors")
    XCTAssertThrowsError(try ModelFile.save(model, to: url)) {
      let text = "\($0)"
      XCTAssertTrue(text.contains("node \"if\"") && text.contains("else branch") && text.contains(".onnx"), text)
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
  }

  func testModelAndItsCopyRunTheDeferredBranch() throws {
    // Zeros (the example inputs) pick the then-branch, which imported.
    let graph = try ONNXImporter.load(data: ONNXBuild.data(model(negate: true)))
    let model = try graph.model()
    var g = SeededGenerator(seed: 9)
    let column = Tensor<Float>.uniform([3, 1], low: -1, high: 1, generator: &g)
    assertClose(model.predict(feeds: [column, Tensor(1)])[0], elseValues(column))
    let copy = model.copy()
    assertClose(copy.predict(feeds: [column, Tensor(1)])[0], elseValues(column))
    assertClose(copy.predict(feeds: [column, Tensor(0)])[0], thenValues(column))
  }

  func testModelRefusesAnExampleThatPicksABranchWhichCannotImport() throws {
    // Zeros pick the else-branch at the example width (320), where its Squeeze cannot import.
    let graph = try ONNXImporter.load(data: ONNXBuild.data(model()))
    XCTAssertThrowsError(try graph.model()) {
      XCTAssertTrue("\($0)".contains("node \"if\" (If): its else branch"), "\($0)")
    }
  }

  private func assertClose(
    _ actual: Tensor<Float>, _ expected: [Float], file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertEqual(actual.shape, [3], file: file, line: line)
    for (a, e) in zip(actual.scalars, expected) { XCTAssertEqual(a, e, accuracy: 1e-5, file: file, line: line) }
  }
}

/// The gradient flows through a branch imported at run time.
extension GradientTests {
  func testDeferredIfBranchGradient() throws {
    // x [3, N]: the else-branch multiplies x's only column by a weight after a Squeeze that
    // the probe widths (320, 384) cannot take.
    var squeezeThen = Onnx_GraphProto()
    squeezeThen.node = [ONNXBuild.node("Mul", ["x", "x"], ["t"])]
    squeezeThen.output = [ONNXBuild.value("t", [])]
    var squeezeElse = Onnx_GraphProto()
    squeezeElse.node = [
      ONNXBuild.node("Squeeze", ["x", "axes"], ["e_sq"]), ONNXBuild.node("MatMul", ["e_sq", "w"], ["e_row"]),
      ONNXBuild.node("Unsqueeze", ["e_row", "axes"], ["e"]),
    ]
    squeezeElse.initializer = [
      ONNXBuild.int64s("axes", [1]), ONNXBuild.tensor("w", [3, 3], [1, -2, 0.5, 3, 0, -1, 2, 1, 4]),
    ]
    squeezeElse.output = [ONNXBuild.value("e", [])]
    let attributes = [("then_branch", squeezeThen), ("else_branch", squeezeElse)].map { name, g in
      var a = Onnx_AttributeProto()
      a.name = name
      a.type = .graph
      a.g = g
      return a
    }
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node("Greater", ["c", "zero"], ["cond"]),
        ONNXBuild.node("If", ["cond"], ["y"], name: "if", attributes),
      ],
      initializers: [ONNXBuild.tensor("zero", [], [0])],
      inputs: [ONNXBuild.value("x", [3, nil]), ONNXBuild.value("c", [])], outputs: ["y"], opset: 16)
    let graph = try ONNXImporter.load(data: ONNXBuild.data(m))
    let layer = try XCTUnwrap(graph.nodes.lazy.compactMap { $0.layer as? ONNXIf }.first)
    XCTAssertNotNil(layer.branches.elseBranch.deferred)
    XCTAssertEqual(layer.branches.captured, ["input"])
    for flag: Float in [1, 0] {
      check([3, 1]) { x in
        var context = ForwardContext(isTraining: true)
        return layer.forward([Variable(Tensor(flag)), x], context: &context)
      }
    }
  }
}
