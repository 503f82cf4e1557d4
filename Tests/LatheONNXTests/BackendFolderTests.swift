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
