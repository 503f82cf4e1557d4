import Foundation
import XCTest

/// Runs the real `lathe` binary as a user or a script would, and checks exit codes, JSON and
/// error lines. `swift test` builds the executable with the tests.
final class CommandLineTests: XCTestCase {
  static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  /// The `lathe` built with these tests: next to the test bundle, whatever the build folder
  /// (`swift test --scratch-path X` builds into X/debug).
  static let binary: URL = {
    let tests =
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let beside = URL(fileURLWithPath: tests).deletingLastPathComponent().appendingPathComponent("lathe")
    if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
    return packageRoot.appendingPathComponent(".build/debug/lathe")
  }()

  struct Outcome {
    var status: Int32
    var stdout: String
    var stderr: String
    var json: [String: Any] {
      (try? JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any]) ?? [:]
    }
  }

  func lathe(_ arguments: String...) throws -> Outcome { try lathe(arguments) }

  func lathe(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
    let binary = Self.binary
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
      XCTFail("build the CLI first: swift build --product lathe")
      throw CocoaError(.fileNoSuchFile)
    }
    return try shell(binary.path, arguments, environment: environment)
  }

  /// Runs any program from the package root and collects its exit status and output;
  /// `environment` adds to (or overrides) this process's variables.
  func shell(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.currentDirectoryURL = Self.packageRoot
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Outcome(
      status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
      stderr: String(decoding: stderr, as: UTF8.self))
  }

  var scratch: URL!

  override func setUpWithError() throws {
    scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: scratch)
  }

  func testNoArgumentsPrintsHelp() throws {
    let result = try lathe()
    XCTAssertEqual(result.status, 0)
    XCTAssertTrue(result.stdout.contains("USAGE"), result.stdout)
    for command in ["train", "eval", "inspect", "bench"] { XCTAssertTrue(result.stdout.contains(command), command) }
  }

  func testTrainThenEvalAndInspectTheSavedFile() throws {
    let model = scratch.appendingPathComponent("digits.safetensors").path
    let trained = try lathe(
      "train", "--model", "digits-mlp", "--dataset", "digits", "--epochs", "3", "--lr", "0.05", "--seed", "1",
      "--output", model, "--json")
    XCTAssertEqual(trained.status, 0, trained.stderr)
    let accuracy = try XCTUnwrap(trained.json["accuracy"] as? Double)
    XCTAssertGreaterThan(accuracy, 0.8, "three epochs on digits should get most of the test split right")
    XCTAssertEqual(trained.json["samples"] as? Int, 360)

    let evaluated = try lathe("eval", model, "--json")
    XCTAssertEqual(evaluated.status, 0, evaluated.stderr)
    XCTAssertEqual(try XCTUnwrap(evaluated.json["accuracy"] as? Double), accuracy, accuracy: 1e-6)
    XCTAssertEqual(evaluated.json["samples"] as? Int, 360)
    XCTAssertEqual(evaluated.json["dataset"] as? String, "digits", "eval defaults to the training dataset")

    let inspected = try lathe("inspect", model, "--json")
    XCTAssertEqual(inspected.status, 0, inspected.stderr)
    XCTAssertEqual(inspected.json["parameters"] as? Int, 64 * 64 + 64 + 64 * 10 + 10)
    let size = try FileManager.default.attributesOfItem(atPath: model)[.size] as? Int
    XCTAssertEqual(inspected.json["size_bytes"] as? Int, size)
    let layers = try XCTUnwrap(inspected.json["layers"] as? [[String: Any]])
    XCTAssertEqual(layers.map { $0["name"] as? String }, ["flatten", "fc1", "relu1", "fc2"])
    XCTAssertEqual(layers[1]["output_shape"] as? [Int], [1, 64])

    let table = try lathe("inspect", model)
    XCTAssertEqual(table.status, 0)
    XCTAssertTrue(table.stdout.contains("fc1") && table.stdout.contains("total"), table.stdout)
  }

  func testTruncatedAndForeignModelFilesFailWithOneLine() throws {
    let bundled = Self.packageRoot.appendingPathComponent("samples/models/digits-mlp.safetensors")
    let bytes = try Data(contentsOf: bundled)
    let truncated = scratch.appendingPathComponent("truncated.safetensors")
    try bytes.prefix(bytes.count / 2).write(to: truncated)
    let foreign = scratch.appendingPathComponent("notes.safetensors")
    try Data("these are not tensors\n".utf8).write(to: foreign)
    let empty = scratch.appendingPathComponent("empty.safetensors")
    try Data().write(to: empty)
    for file in [truncated, foreign, empty] {
      for command in ["inspect", "eval"] {
        let result = try lathe(command, file.path)
        XCTAssertNotEqual(result.status, 0, "\(command) \(file.lastPathComponent)")
        XCTAssertFalse([SIGSEGV, SIGILL, SIGTRAP, SIGABRT].contains(result.status), "crashed")
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains(file.lastPathComponent), result.stderr)
      }
    }
    let missing = try lathe("inspect", scratch.appendingPathComponent("nowhere.safetensors").path)
    XCTAssertNotEqual(missing.status, 0)
    XCTAssertTrue(missing.stderr.contains("nowhere.safetensors"), missing.stderr)
  }

  func testUnknownArchitectureAndDatasetAreExplained() throws {
    let output = scratch.appendingPathComponent("x.safetensors").path
    let badModel = try lathe("train", "--model", "resnet-9000", "--dataset", "digits", "--output", output)
    XCTAssertNotEqual(badModel.status, 0)
    XCTAssertTrue(badModel.stderr.contains("lenet-300-100"), badModel.stderr)
    let badData = try lathe("train", "--model", "digits-mlp", "--dataset", "imagenet", "--output", output)
    XCTAssertNotEqual(badData.status, 0)
    XCTAssertTrue(badData.stderr.contains("mnist-5k"), badData.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: output), "a failed run leaves no file")
  }

  func testBenchReportsGEMMThroughputAsJSON() throws {
    let result = try lathe("bench", "--quick", "--only", "gemm", "--json")
    XCTAssertEqual(result.status, 0, result.stderr)
    let gemm = try XCTUnwrap(result.json["gemm"] as? [[String: Any]])
    XCTAssertEqual(gemm.compactMap { $0["n"] as? Int }, [256, 512, 1024, 2048])
    XCTAssertTrue(gemm.allSatisfy { ($0["gflops"] as? Double ?? 0) > 0.1 })
  }

  /// `bench --only models` times each model on every kernel path this CPU has, marks the
  /// default one (LK_ISA names it), and keeps that path's figures as `models` for
  /// scripts/bench_compare.py.
  func testBenchTimesModelsOnEveryKernelPath() throws {
    let folder = scratch.appendingPathComponent("models")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      atPath: "samples/models/digits-mlp.safetensors", toPath: folder.appendingPathComponent("mlp.safetensors").path)
    let result = try lathe(
      ["bench", "--only", "models", "--models", folder.path, "--latency-seconds", "0.01", "--json"],
      environment: ["LK_ISA": "portable"])
    XCTAssertEqual(result.status, 0, result.stderr)
    XCTAssertEqual(result.json["default_path"] as? String, "portable")
    let names = try XCTUnwrap(result.json["paths"] as? [String])
    XCTAssertEqual(names.first, "portable")
    let paths = try XCTUnwrap(result.json["path_models"] as? [[String: Any]])
    XCTAssertEqual(paths.compactMap { $0["path"] as? String }, names, "every supported path, in order")
    let defaults = paths.filter { $0["is_default"] as? Bool == true }
    XCTAssertEqual(defaults.compactMap { $0["path"] as? String }, ["portable"])
    for path in paths {
      let models = try XCTUnwrap(path["models"] as? [[String: Any]])
      XCTAssertEqual(models.compactMap { $0["model"] as? String }, ["mlp.safetensors"])
    }
    let models = try XCTUnwrap(result.json["models"] as? [[String: Any]])
    XCTAssertEqual(models.compactMap { $0["model"] as? String }, ["mlp.safetensors"])
  }

  /// `bench --layers` times every layer of the model at each batch asked for; a layer the pass
  /// never reached would read 0 µs.
  func testBenchLayersTimesEveryLayerAtEachBatch() throws {
    let model = "samples/models/lenet-5.safetensors"
    let result = try lathe("bench", "--layers", model, "--layer-batches", "1", "3", "--quick", "--json")
    XCTAssertEqual(result.status, 0, result.stderr)
    let layers = try XCTUnwrap(result.json["layers"] as? [String: Any])
    XCTAssertEqual(layers["batches"] as? [Int], [1, 3])
    let rows = try XCTUnwrap(layers["rows"] as? [[String: Any]])
    XCTAssertGreaterThan(rows.count, 3)
    for row in rows {
      let times = try XCTUnwrap(row["microseconds"] as? [Double], "\(row)")
      XCTAssertEqual(times.count, 2, "\(row)")
      XCTAssertTrue(times.allSatisfy { $0 > 0 }, "\(row)")
    }
    let bad = try lathe("bench", "--layers", model, "--layer-batches", "0")
    XCTAssertNotEqual(bad.status, 0)
    XCTAssertTrue(bad.stderr.contains("--layer-batches: 0"), bad.stderr)
  }
}
