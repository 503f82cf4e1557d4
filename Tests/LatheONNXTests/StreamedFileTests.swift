import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// Files are read through StreamedModelFile (mapped, initializers decoded one at a time): the
/// result must equal decoding the same bytes in memory, and bad files must fail cleanly.
final class StreamedFileTests: XCTestCase {
  var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-streamed-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  /// Two Gemms with raw and typed initializers, one weight larger than the 4 MB copy chunk so
  /// the chunked copy and page release run.
  func model() -> Onnx_ModelProto {
    var g = SeededGenerator(seed: 5)
    let (wide, hidden) = (1100, 1000)  // 4.4 MB of fp32: two chunks
    let w1 = (0..<(hidden * wide)).map { _ in g.nextUniform() - 0.5 }
    let w2 = (0..<(3 * hidden)).map { _ in g.nextUniform() - 0.5 }
    return ONNXBuild.model(
      nodes: [
        ONNXBuild.node("Gemm", ["x", "W1", "B1"], ["h"], name: "fc1", [Attr.int("transB", 1)]),
        ONNXBuild.node("Relu", ["h"], ["r"], name: "relu"),
        ONNXBuild.node("Gemm", ["r", "W2"], ["y"], name: "fc2", [Attr.int("transB", 1)]),
      ],
      initializers: [
        ONNXBuild.rawTensor("W1", [hidden, wide], w1),
        ONNXBuild.tensor("B1", [hidden], (0..<hidden).map { Float($0 % 7) * 0.01 }),
        ONNXBuild.rawTensor("W2", [3, hidden], w2),
      ],
      inputs: [ONNXBuild.value("x", [nil, wide])], outputs: ["y"])
  }

  func write(_ bytes: Data, _ name: String) throws -> URL {
    let url = folder.appendingPathComponent(name)
    try bytes.write(to: url)
    return url
  }

  func testFileEqualsInMemoryDecoding() throws {
    let bytes = ONNXBuild.data(model())
    let url = try write(bytes, "two-layers.onnx")
    var g = SeededGenerator(seed: 6)
    let x = Tensor<Float>.uniform([2, 1100], low: -1, high: 1, generator: &g)
    let fromFile = try ONNXImporter.load(contentsOf: url).run([x])[0]
    let fromMemory = try ONNXImporter.load(data: bytes, path: url.path).run([x])[0]
    XCTAssertEqual(fromFile.shape, [2, 3])
    XCTAssertEqual(fromFile.scalars, fromMemory.scalars)
    // And against the weights themselves: y = W2·relu(W1·x + B1).
    let m = model()
    let w1 = Tensor(shape: [1000, 1100], scalars: rawFloats(m.graph.initializer[0]))
    let b1 = Tensor(shape: [1000], scalars: m.graph.initializer[1].floatData)
    let w2 = Tensor(shape: [3, 1000], scalars: rawFloats(m.graph.initializer[2]))
    let h = x.linearForward(weight: w1, bias: b1).mapFloat { max($0, 0) }
    let y = h.linearForward(weight: w2, bias: nil)
    for (a, b) in zip(fromFile.scalars, y.scalars) { XCTAssertEqual(a, b, accuracy: 1e-3) }
  }

  func rawFloats(_ t: Onnx_TensorProto) -> [Float] {
    t.rawData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
  }

  func testEveryTruncatedFileFailsCleanly() throws {
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node("Gemm", ["x", "W"], ["y"], name: "fc", [Attr.int("transB", 1)])],
      initializers: [ONNXBuild.rawTensor("W", [2, 3], [1, 2, 3, 4, 5, 6]), ONNXBuild.tensor("unused", [2], [7, 8])],
      inputs: [ONNXBuild.value("x", [nil, 3])], outputs: ["y"])
    let bytes = ONNXBuild.data(m)
    for length in 0..<bytes.count {
      let url = try write(bytes.prefix(length), "cut-\(length).onnx")
      do {
        let graph = try ONNXImporter.load(contentsOf: url)
        _ = try? graph.model()
      } catch {
        XCTAssertTrue("\(error)".contains(url.path), "\(length) bytes: \(error)")
      }
    }
  }

  func testGarbageAndMissingFiles() throws {
    let garbage = try write(Data("hello, not onnx at all".utf8), "garbage.onnx")
    XCTAssertThrowsError(try ONNXImporter.load(contentsOf: garbage)) { error in
      XCTAssertTrue("\(error)".hasPrefix(garbage.path + ":"), "\(error)")
    }
    let missing = folder.appendingPathComponent("missing.onnx")
    XCTAssertThrowsError(try ONNXImporter.load(contentsOf: missing)) { error in
      XCTAssertTrue("\(error)".contains("missing.onnx"), "\(error)")
    }
  }
}
