import Foundation
import XCTest

/// What a user or script gets for a mistyped command, `--version`, `--json` on every command
/// that runs without a terminal, and the workbench asked for without one.
extension CommandLineTests {
  func testAMistypedCommandIsNamedWithTheCommandMeant() throws {
    let result = try lathe("inspct", "samples/models/lenet-5.safetensors")
    XCTAssertEqual(result.status, 64, result.stderr)
    XCTAssertEqual(result.stdout, "")
    XCTAssertTrue(result.stderr.contains("unknown command \"inspct\""), result.stderr)
    XCTAssertTrue(
      result.stderr.contains("did you mean lathe inspect samples/models/lenet-5.safetensors?"), result.stderr)
    XCTAssertFalse(result.stderr.contains("--pipeline"), "the workbench's usage is not the answer: \(result.stderr)")
    // A prefix of one command, and a word like no command at all.
    XCTAssertTrue(try lathe("tut").stderr.contains("did you mean lathe tutorial?"))
    let unknown = try lathe("frobnicate")
    XCTAssertEqual(unknown.status, 64)
    XCTAssertFalse(unknown.stderr.contains("did you mean"), unknown.stderr)
    XCTAssertTrue(unknown.stderr.contains("Commands: workbench, tutorial, train"), unknown.stderr)
    XCTAssertEqual(unknown.stderr.split(separator: "\n").count, 1, "errors are one line: \(unknown.stderr)")
  }

  func testAFileWhereTheCommandGoesSaysHowToOpenIt() throws {
    let result = try lathe("samples/models/lenet-5.safetensors")
    XCTAssertEqual(result.status, 64)
    XCTAssertTrue(result.stderr.contains("lathe --model samples/models/lenet-5.safetensors"), result.stderr)
    XCTAssertTrue(result.stderr.contains("lathe inspect samples/models/lenet-5.safetensors"), result.stderr)
  }

  func testVersionIsPrinted() throws {
    let result = try lathe("--version")
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertNotNil(
      result.stdout.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression), "not a version: \(result.stdout)")
  }

  func testWorkbenchOptionsWithoutATerminalAreAnError() throws {
    // The tests' stdin and stdout are pipes, as in a script.
    let result = try lathe("--model", "lenet-5")
    XCTAssertEqual(result.status, 1)
    XCTAssertEqual(result.stdout, "")
    XCTAssertTrue(result.stderr.contains("the workbench needs a terminal, and stdin is not one"), result.stderr)
    // Bare `lathe` still lists the commands for whoever piped it.
    XCTAssertEqual(try lathe().status, 0)
  }

  func testExportTakesJSON() throws {
    let output = scratch.appendingPathComponent("lenet.onnx")
    let result = try lathe("export", "lenet-5", "--format", "onnx", "-o", output.path, "--json")
    XCTAssertEqual(result.status, 0, result.stderr)
    let json = result.json
    XCTAssertEqual(json["kind"] as? String, "export")
    XCTAssertEqual(json["format"] as? String, "onnx")
    let size = try FileManager.default.attributesOfItem(atPath: output.path)[.size] as? Int
    XCTAssertEqual(json["bytes"] as? Int, size)
    XCTAssertGreaterThan(json["nodes"] as? Int ?? 0, 3)
    // The exported file names the release that wrote it.
    let version = try lathe("--version").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    XCTAssertNotNil(try Data(contentsOf: output).range(of: Data(version.utf8)), "producer_version missing")
  }

  func testONNXTestTakesJSONAndStillFailsOnAFailure() throws {
    let folder = try reluTestFolder(sets: [[1, 2, 3, 4, 5, 6, 7, 8], [1, -2, 3, -4, 5, -6, 7, -8]])
    let passing = try lathe("onnx-test", folder.path, "--json", "--time", "2")
    XCTAssertEqual(passing.status, 0, passing.stderr)
    XCTAssertEqual(passing.json["passed"] as? Int, 1)
    let tests = passing.json["tests"] as? [[String: Any]] ?? []
    XCTAssertEqual(tests.first?["name"] as? String, "test_relu")
    XCTAssertEqual((tests.first?["timings"] as? [Any])?.count, 2)
    try Data(floatTensor("y", [2, 4], [1, 0, 3, 0, 5, 0, 7, 1]))
      .write(to: folder.appendingPathComponent("test_data_set_1/output_0.pb"))
    let failing = try lathe("onnx-test", folder.path, "--json")
    XCTAssertEqual(failing.status, 1)
    XCTAssertEqual(failing.json["failed"] as? Int, 1, failing.stdout)
    let message = (failing.json["tests"] as? [[String: Any]])?.first?["message"] as? String ?? ""
    XCTAssertTrue(message.contains("element 7"), message)
  }

  func testTutorialListTakesJSON() throws {
    let state = scratch.appendingPathComponent("state")
    let result = try lathe(["tutorial", "--json"], environment: ["XDG_STATE_HOME": state.path])
    XCTAssertEqual(result.status, 0, result.stderr)
    let tutorials = result.json["tutorials"] as? [[String: Any]] ?? []
    let files = try FileManager.default.contentsOfDirectory(
      atPath: Self.packageRoot.appendingPathComponent("samples/tutorials").path
    ).filter { $0.hasSuffix(".yaml") }
    XCTAssertEqual(tutorials.count, files.count)
    XCTAssertEqual(Set(tutorials.compactMap { $0["state"] as? String }), ["new"])
    XCTAssertTrue(tutorials.allSatisfy { ($0["steps"] as? Int ?? 0) > 0 })
    let opening = try lathe("tutorial", "first-tour", "--json")
    XCTAssertEqual(opening.status, 64)
    XCTAssertTrue(opening.stderr.contains("--json lists the tutorials"), opening.stderr)
  }
}
