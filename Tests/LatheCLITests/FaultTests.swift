import Foundation
import XCTest

/// Faults while `lathe` writes: `kill -9` in the middle of a run, a full disk, a read-only
/// folder. Each must leave only complete files and, where the process lives, one clear line.
extension CommandLineTests {
  /// A three-step pipeline on the small model: several files written over a few seconds.
  func writeThreeStepPipeline() throws -> URL {
    let pipeline = scratch.appendingPathComponent("three.yaml")
    try """
    name: three
    model: digits-mlp
    dataset: digits
    steps:
      - name: prune
        technique: prune
        sparsity: 0.5
        epochs: 2
      - name: share
        technique: weight-sharing
        bits: 5
        epochs: 1
      - name: code
        technique: huffman
    """.write(to: pipeline, atomically: true, encoding: .utf8)
    return pipeline
  }

  /// Every model file in `folder` opens; nothing half-written is visible.
  func assertOnlyCompleteModels(in folder: URL, _ context: String) throws {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    for name in names where !name.hasPrefix(".") {
      let inspected = try lathe("inspect", folder.appendingPathComponent(name).path)
      XCTAssertEqual(inspected.status, 0, "\(context): \(name) is not a complete model: \(inspected.stderr)")
    }
  }

  func testKillDuringRunLeavesOnlyCompleteFiles() throws {
    let pipeline = try writeThreeStepPipeline()
    let output = scratch.appendingPathComponent("killed")
    var generator = SystemRandomNumberGenerator()
    for attempt in 0..<6 {
      let process = Process()
      process.executableURL = Self.binary
      process.arguments = ["run", pipeline.path, "--output-dir", output.path, "--latency-seconds", "0.01"]
      process.currentDirectoryURL = Self.packageRoot
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()
      Thread.sleep(forTimeInterval: Double.random(in: 0.05...1.5, using: &generator))
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      try assertOnlyCompleteModels(in: output, "attempt \(attempt)")
    }
    // A run after the kills finishes, and its writes clear the hidden leftovers.
    let finished = try lathe("run", pipeline.path, "--output-dir", output.path, "--latency-seconds", "0.01")
    XCTAssertEqual(finished.status, 0, finished.stderr)
    let names = try FileManager.default.contentsOfDirectory(atPath: output.path)
    XCTAssertEqual(names.filter { $0.hasPrefix(".") }, [], "temporaries of killed runs are gone")
    XCTAssertEqual(names.filter { $0.hasSuffix(".safetensors") }.count, 4)
  }

  /// Mounts a small tmpfs (root only, as on the CI machine); skips elsewhere.
  func mountTmpfs(_ options: String) throws -> URL {
    let point = scratch.appendingPathComponent("mnt-\(UUID().uuidString.prefix(6))")
    try FileManager.default.createDirectory(at: point, withIntermediateDirectories: true)
    let mounted = try shell("/bin/mount", ["-t", "tmpfs", "-o", options, "tmpfs", point.path])
    guard mounted.status == 0 else { throw XCTSkip("cannot mount a tmpfs here (needs root): \(mounted.stderr)") }
    addTeardownBlock { _ = try? self.shell("/bin/umount", [point.path]) }
    return point
  }

  func testFullDiskGivesOneLineAndNoPartialFile() throws {
    let disk = try mountTmpfs("size=28k")
    let pipeline = try writeThreeStepPipeline()
    let output = disk.appendingPathComponent("out")
    let run = try lathe("run", pipeline.path, "--output-dir", output.path, "--latency-seconds", "0.01")
    XCTAssertEqual(run.status, 1, run.stdout)
    XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
    XCTAssertTrue(run.stderr.contains("No space left on device"), run.stderr)
    try assertOnlyCompleteModels(in: output, "full disk")
    let names = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
    XCTAssertEqual(names.filter { $0.hasPrefix(".") }, [], "no temporary is left")

    let export = try lathe(
      "export", "samples/models/lenet-5.safetensors", "--format", "onnx", "--output",
      disk.appendingPathComponent("lenet.onnx").path)
    XCTAssertEqual(export.status, 1)
    XCTAssertTrue(export.stderr.contains("lenet.onnx") && export.stderr.contains("No space left"), export.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: disk.appendingPathComponent("lenet.onnx").path))
  }

  func testReadOnlyFolderGivesOneLineAndNoFile() throws {
    let disk = try mountTmpfs("ro,size=64k")
    let target = disk.appendingPathComponent("digits.onnx")
    let export = try lathe("export", "digits-mlp", "--format", "onnx", "--output", target.path)
    XCTAssertEqual(export.status, 1)
    XCTAssertEqual(export.stderr.split(separator: "\n").count, 1, export.stderr)
    XCTAssertTrue(export.stderr.contains("Read-only file system"), export.stderr)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: disk.path), [])

    let trained = try lathe(
      "train", "--model", "digits-mlp", "--dataset", "digits", "--epochs", "1", "--output",
      disk.appendingPathComponent("m.safetensors").path)
    XCTAssertEqual(trained.status, 1)
    XCTAssertTrue(trained.stderr.contains("Read-only file system"), trained.stderr)
  }
}
