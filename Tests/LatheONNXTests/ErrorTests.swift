import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheONNX

/// Bad files give errors that name the file, node and operator; none of them crash.
final class ErrorTests: XCTestCase {
  func validModel() -> Onnx_ModelProto {
    ONNXBuild.model(
      nodes: [ONNXBuild.node("Gemm", ["x", "W"], ["y"], name: "fc", [Attr.int("transB", 1)])],
      initializers: [ONNXBuild.tensor("W", [2, 3], [1, 2, 3, 4, 5, 6])], inputs: [ONNXBuild.value("x", [nil, 3])],
      outputs: ["y"])
  }

  func testGarbageIsUnreadable() {
    XCTAssertThrowsError(try ONNXImporter.load(data: Data("hello, not onnx".utf8), path: "bad.onnx")) { error in
      let message = "\(error)"
      XCTAssertTrue(message.hasPrefix("bad.onnx:"), message)
    }
  }

  func testEveryTruncationFailsCleanly() {
    let bytes = ONNXBuild.data(validModel())
    for length in stride(from: 0, to: bytes.count, by: 3) {
      do {
        let graph = try ONNXImporter.load(data: bytes.prefix(length), path: "cut.onnx")
        _ = try? graph.model()
      } catch {
        XCTAssertTrue("\(error)".contains("cut.onnx"), "\(error)")
      }
    }
  }

  func testUnknownOpset() {
    var m = validModel()
    m.opsetImport[0].version = 99
    XCTAssertThrowsError(try ONNXImporter.load(data: ONNXBuild.data(m), path: "new.onnx")) { error in
      XCTAssertEqual(
        "\(error)", "new.onnx: opset ai.onnx version 99 is not supported (supported: 6 to 28)")
    }
  }

  func testUnsupportedOpsAreAllListed() {
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node("Relu", ["x"], ["a"], name: "r"),
        ONNXBuild.node("TfIdfVectorizer", ["a", "a"], ["b"], name: "tfidf1"),
        ONNXBuild.node("StringSplit", ["b"], ["c"], name: "split"),
        ONNXBuild.node("TfIdfVectorizer", ["c", "c"], ["y"], name: "tfidf2"),
        {
          var n = ONNXBuild.node("FusedConv", ["y"], ["z"], name: "ms")
          n.domain = "com.microsoft"
          return n
        }(),
      ],
      initializers: [], inputs: [ONNXBuild.value("x", [1, 2])], outputs: ["z"])
    XCTAssertThrowsError(try ONNXImporter.load(data: ONNXBuild.data(m), path: "ops.onnx")) { error in
      XCTAssertEqual(
        "\(error)",
        "ops.onnx: unsupported ONNX operators: TfIdfVectorizer (nodes: tfidf1, tfidf2); StringSplit (nodes: split); "
          + "com.microsoft.FusedConv (nodes: ms)")
    }
  }

  func testBadNodeNamesFileNodeAndOp() {
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node("Gemm", ["x", "W"], ["y"], name: "fc", [Attr.int("transB", 1)])],
      initializers: [ONNXBuild.tensor("W", [2, 4], Array(repeating: 1, count: 8))],
      inputs: [ONNXBuild.value("x", [nil, 3])], outputs: ["y"])
    XCTAssertThrowsError(try ONNXImporter.load(data: ONNXBuild.data(m), path: "shape.onnx")) { error in
      XCTAssertEqual("\(error)", "shape.onnx: node \"fc\" (Gemm): A has 3 columns but B has 4 rows")
    }
  }

  func testInitializerWithWrongByteCount() {
    var m = validModel()
    m.graph.initializer = [ONNXBuild.rawTensor("W", [2, 3], [1, 2, 3])]
    XCTAssertThrowsError(try ONNXImporter.load(data: ONNXBuild.data(m), path: "short.onnx")) { error in
      XCTAssertTrue("\(error)".contains("tensor \"W\" has 12 bytes of data, its dims [2, 3] need 24"), "\(error)")
    }
  }

  func testMissingInputAndRuntimeWeight() {
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node("Conv", ["x", "w"], ["y"], name: "conv")], initializers: [],
      inputs: [ONNXBuild.value("x", [1, 1, 4, 4]), ONNXBuild.value("w", [1, 1, 3, 3])], outputs: ["y"])
    XCTAssertThrowsError(try ONNXImporter.load(data: ONNXBuild.data(m), path: "w.onnx")) { error in
      XCTAssertTrue("\(error)".contains("node \"conv\" (Conv): input 1 (W) is computed at run time"), "\(error)")
    }
    let missing = ONNXBuild.model(
      nodes: [ONNXBuild.node("Relu", ["nowhere"], ["y"], name: "r")], initializers: [],
      inputs: [ONNXBuild.value("x", [1])], outputs: ["y"])
    XCTAssertThrowsError(try ONNXImporter.load(data: ONNXBuild.data(missing), path: "m.onnx")) { error in
      XCTAssertTrue("\(error)".contains("input \"nowhere\" is produced by no earlier node"), "\(error)")
    }
  }

  /// A graph of two inputs and two outputs becomes a model with an extra input and output,
  /// which runs through `forward(feeds:)` and survives a model file.
  func testModelOfTwoInputsAndTwoOutputs() throws {
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node("Add", ["a", "b"], ["y"]), ONNXBuild.node("Mul", ["a", "b"], ["z"])], initializers: [],
      inputs: [ONNXBuild.value("a", [nil, 2]), ONNXBuild.value("b", [nil, 2])], outputs: ["y", "z"])
    let graph = try ONNXImporter.load(data: ONNXBuild.data(m), path: "two.onnx")
    let (a, b) = (Tensor<Float>(shape: [1, 2], scalars: [1, 2]), Tensor<Float>(shape: [1, 2], scalars: [3, 4]))
    XCTAssertEqual(graph.run([a, b]).map(\.scalars), [[4, 6], [3, 8]])
    let model = try graph.model()
    XCTAssertEqual(model.extraInputs.map(\.shape), [[-1, 2]])
    XCTAssertEqual(model.predict(feeds: [a, b]).map(\.scalars), [[4, 6], [3, 8]])
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-two-\(UUID()).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try ModelFile.save(model, to: url)
    let back = try ModelFile.load(from: url, builders: ONNXLayers.builders)
    XCTAssertEqual(back.extraInputs, model.extraInputs)
    XCTAssertEqual(back.extraOutputs, model.extraOutputs)
    var g = SeededGenerator(seed: 5)
    let batch = (
      Tensor<Float>.uniform([3, 2], low: -1, high: 1, generator: &g),
      Tensor<Float>.uniform([3, 2], low: -1, high: 1, generator: &g)
    )
    XCTAssertEqual(
      back.predict(feeds: [batch.0, batch.1]).map(\.scalars), model.predict(feeds: [batch.0, batch.1]).map(\.scalars))
  }
}
