import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// The backend-test runner on a folder written here, and on ONNX's own folders when a
/// checkout or pip install is pointed to by LATHE_ONNX_BACKEND_DATA (skipped otherwise).
final class BackendFolderTests: XCTestCase {
  func testRunnerOnGeneratedFolder() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-onnx-bt-\(UUID())/test_relu")
    let data = folder.appendingPathComponent("test_data_set_0")
    try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node("Relu", ["x"], ["y"])], initializers: [], inputs: [ONNXBuild.value("x", [1, 3])],
      outputs: ["y"])
    try ONNXBuild.data(m).write(to: folder.appendingPathComponent("model.onnx"))
    try ONNXBuild.rawTensor("x", [1, 3], [-1, 0, 2]).serializedData().write(
      to: data.appendingPathComponent("input_0.pb"))
    try ONNXBuild.rawTensor("y", [1, 3], [0, 0, 2]).serializedData().write(
      to: data.appendingPathComponent("output_0.pb"))
    let tests = BackendTestRunner.testFolders([folder.deletingLastPathComponent().path])
    XCTAssertEqual(tests.map(\.lastPathComponent), ["test_relu"])
    XCTAssertTrue(BackendTestRunner.run(folder).passed)
    try ONNXBuild.rawTensor("y", [1, 3], [0, 0, 2.1]).serializedData().write(
      to: data.appendingPathComponent("output_0.pb"))
    let outcome = BackendTestRunner.run(folder)
    XCTAssertFalse(outcome.passed)
    XCTAssertTrue(outcome.message.contains("element 2 is 2.0, expected 2.1"), outcome.message)
  }

  /// `onnx-test` reads the model from the mapped file as `inspect` does: a 48 MB weight raises
  /// the process's peak memory by about twice that (the weight, and the packed copy the Linear
  /// caches when it runs: measured 2.07x), where reading the file's bytes and decoding a whole
  /// ModelProto from them held it about four times (each copy is over glibc's 32 MB mmap
  /// threshold, so what is freed leaves the process). Linux only: the peak is reset through
  /// /proc/self/clear_refs and read from /proc/self/status.
  func testRunnerHoldsTheWeightsAboutOnce() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-onnx-peak-\(UUID())/test_wide")
    let data = folder.appendingPathComponent("test_data_set_0")
    try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
    let (outputs, inputs) = (3000, 4000)
    let weightBytes = outputs * inputs * 4
    // y = W·x with x the first unit vector: W's first column, 0.001 * (i % 100) for row i.
    func writeModel() throws {  // its 48 MB of arrays are freed when it returns
      let w = (0..<(outputs * inputs)).map { k in k % inputs == 0 ? Float(k / inputs % 100) * 0.001 : 0.5 }
      let m = ONNXBuild.model(
        nodes: [ONNXBuild.node("Gemm", ["x", "W"], ["y"], [Attr.int("transB", 1)])],
        initializers: [ONNXBuild.rawTensor("W", [outputs, inputs], w)], inputs: [ONNXBuild.value("x", [1, inputs])],
        outputs: ["y"])
      try ONNXBuild.data(m).write(to: folder.appendingPathComponent("model.onnx"))
    }
    try writeModel()
    try ONNXBuild.rawTensor("x", [1, inputs], (0..<inputs).map { $0 == 0 ? 1 : 0 }).serializedData().write(
      to: data.appendingPathComponent("input_0.pb"))
    try ONNXBuild.rawTensor("y", [1, outputs], (0..<outputs).map { Float($0 % 100) * 0.001 }).serializedData().write(
      to: data.appendingPathComponent("output_0.pb"))
    func status(_ key: String) -> Int? {
      let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
      let line = text.split(separator: "\n").first { $0.hasPrefix(key + ":") }
      return line.flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true)[1]) }.map { $0 * 1024 }
    }
    guard (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil,
      let before = status("VmRSS")
    else { throw XCTSkip("no /proc/self/clear_refs to reset the peak resident memory") }
    let outcome = BackendTestRunner.run(folder)
    let peak = try XCTUnwrap(status("VmHWM"))
    XCTAssertTrue(outcome.passed, outcome.message)
    let extra = Double(peak - before) / Double(weightBytes)
    XCTAssertLessThan(extra, 2.5, "peak memory grew by \(extra)x the weights")
  }

  /// Data sets of two widths run on one import of a graph with a symbolic width; a graph that
  /// only imports with its weight input bound falls back, says so, and fails with
  /// `requireDynamic`.
  func testOneImportServesEverySizeAndTheFallbackIsReported() throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-onnx-dyn-\(UUID())")
    defer { try? FileManager.default.removeItem(at: root) }
    func write(_ m: Onnx_ModelProto, _ name: String, sets: [[Onnx_TensorProto]], outputs: [Onnx_TensorProto]) throws
      -> URL
    {
      let folder = root.appendingPathComponent(name)
      for (k, (inputs, output)) in zip(sets, outputs).enumerated() {
        let data = folder.appendingPathComponent("test_data_set_\(k)")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        for (i, t) in inputs.enumerated() {
          try t.serializedData().write(to: data.appendingPathComponent("input_\(i).pb"))
        }
        try output.serializedData().write(to: data.appendingPathComponent("output_0.pb"))
      }
      try ONNXBuild.data(m).write(to: folder.appendingPathComponent("model.onnx"))
      return folder
    }
    var x = ONNXBuild.value("x", [1, nil])
    x.type.tensorType.shape.dim[1].dimParam = "W"
    let flatten = ONNXBuild.model(
      nodes: [
        ONNXBuild.node("Shape", ["x"], ["s"]), ONNXBuild.node("ReduceProd", ["s"], ["n"], [Attr.int("keepdims", 1)]),
        ONNXBuild.node("Reshape", ["x", "n"], ["y"]),
      ], initializers: [], inputs: [x], outputs: ["y"], opset: 13)
    let widths = [3, 5]
    let inputs = widths.map { w in [ONNXBuild.rawTensor("x", [1, w], (0..<w).map { Float($0) })] }
    let outputs = widths.map { w in ONNXBuild.rawTensor("y", [w], (0..<w).map { Float($0) }) }
    let dynamic = try write(flatten, "test_flatten", sets: inputs, outputs: outputs)
    let outcome = BackendTestRunner.run(dynamic, requireDynamic: true)
    XCTAssertTrue(outcome.passed, outcome.message)
    XCTAssertEqual(outcome.message, "")
    // BatchNormalization's scale as a graph input: it only imports bound.
    let bn = ONNXBuild.model(
      nodes: [ONNXBuild.node("BatchNormalization", ["x", "scale", "b", "mean", "var"], ["y"])],
      initializers: [
        ONNXBuild.tensor("b", [1], [0]), ONNXBuild.tensor("mean", [1], [0]), ONNXBuild.tensor("var", [1], [1]),
      ], inputs: [ONNXBuild.value("x", [1, 1, 2]), ONNXBuild.value("scale", [1])], outputs: ["y"])
    let bound = try write(
      bn, "test_bn", sets: [[ONNXBuild.rawTensor("x", [1, 1, 2], [1, 2]), ONNXBuild.rawTensor("s", [1], [3])]],
      outputs: [
        ONNXBuild.rawTensor("y", [1, 1, 2], [Float(3 / 1.000005.squareRoot()), Float(6 / 1.000005.squareRoot())])
      ])
    let fallback = BackendTestRunner.run(bound)
    XCTAssertTrue(fallback.passed, fallback.message)
    XCTAssertTrue(fallback.message.contains("fixed input shapes"), fallback.message)
    XCTAssertFalse(BackendTestRunner.run(bound, requireDynamic: true).passed)
  }

  func testONNXBackendData() throws {
    guard let root = ProcessInfo.processInfo.environment["LATHE_ONNX_BACKEND_DATA"],
      FileManager.default.fileExists(atPath: root + "/pytorch-converted")
    else { throw XCTSkip("set LATHE_ONNX_BACKEND_DATA to onnx/backend/test/data to run ONNX's backend tests") }
    let tests = BackendTestRunner.testFolders([root + "/pytorch-converted", root + "/pytorch-operator"])
    let passed = tests.filter { BackendTestRunner.run($0).passed }.count
    // Every test failing today uses an operator outside Lathe's list or 3-D convolution/pooling.
    XCTAssertGreaterThanOrEqual(passed, 90, "\(passed) of \(tests.count) passed")
  }
}
