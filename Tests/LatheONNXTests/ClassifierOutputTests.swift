import Foundation
import LatheTensor
import LatheWorkspace
import XCTest

@testable import LatheONNX

/// Classifier files with an extra integer label output (as skl2onnx writes them) open as Lathe
/// models through their scores; the backend path still sees every output.
final class ClassifierOutputTests: XCTestCase {
  /// x -> Gemm -> Softmax -> "probabilities" (float), and ArgMax -> "label" (int64) beside it.
  func classifier() -> Onnx_ModelProto {
    var m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node("Gemm", ["x", "W"], ["scores"], name: "fc", [Attr.int("transB", 1)]),
        ONNXBuild.node("Softmax", ["scores"], ["probabilities"], name: "softmax", [Attr.int("axis", 1)]),
        ONNXBuild.node("ArgMax", ["probabilities"], ["label"], name: "argmax", [Attr.int("axis", 1)]),
      ],
      initializers: [ONNXBuild.tensor("W", [3, 2], [1, 0, 0, 1, 1, 1])], inputs: [ONNXBuild.value("x", [nil, 2])],
      outputs: ["label", "probabilities"])
    m.graph.output[0].type.tensorType.elemType = 7  // INT64
    return m
  }

  func testModelOpenerKeepsTheScores() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("classifier-\(UUID().uuidString).onnx")
    defer { try? FileManager.default.removeItem(at: url) }
    try ONNXBuild.data(classifier()).write(to: url)
    let model = try ModelOpener.open(url)
    let y = model.predict(Tensor(shape: [1, 2], scalars: [2, 0]))
    // Scores 2, 0, 2 -> softmax.
    let e = [exp(2.0), 1.0, exp(2.0)]
    let total = e.reduce(0, +)
    XCTAssertEqual(y.shape, [1, 3])
    for (got, want) in zip(y.scalars, e.map { $0 / total }) { XCTAssertEqual(Double(got), want, accuracy: 1e-6) }
  }

  func testWithoutTheOptionEveryOutputCounts() throws {
    // Every output imported (ArgMax runs now): the backend path sees both, and so does the
    // Lathe model, the label first and the probabilities as its extra output.
    let graph = try ONNXImporter.load(data: ONNXBuild.data(classifier()), path: "clf.onnx")
    XCTAssertEqual(graph.outputs.map(\.name), ["label", "probabilities"])
    let model = try graph.model()
    XCTAssertEqual(model.extraOutputs.count, 1)
    let outputs = model.predict(feeds: [Tensor(shape: [1, 2], scalars: [2, 0])])
    XCTAssertEqual(outputs.map(\.shape), [[1, 1], [1, 3]], "ArgMax keeps its axis (keepdims defaults to 1)")
    XCTAssertEqual(outputs[0].scalars, [0], "the first of the tied best classes")
    let pruned = ONNXImporter.floatingOutputsOnly(classifier().graph)
    XCTAssertEqual(pruned.output.map(\.name), ["probabilities"])
    XCTAssertEqual(pruned.node.map(\.name), ["fc", "softmax"])
    // A graph whose outputs are all floating point is left alone.
    var allFloat = classifier().graph
    allFloat.output[0].type.tensorType.elemType = 1
    XCTAssertEqual(ONNXImporter.floatingOutputsOnly(allFloat).node.count, 3)
  }
}
