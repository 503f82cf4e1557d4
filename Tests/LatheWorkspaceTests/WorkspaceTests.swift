import Foundation
import LatheCompress
import LatheIO
import LatheSearch
import LatheStudyStore
import LatheWorkspace
import XCTest

/// The one place a pipeline, its model and its dataset are put together, for the CLI and the
/// workbench alike.
final class WorkspaceTests: XCTestCase {
  var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-workspace-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  func write(_ text: String) throws -> URL {
    let url = folder.appendingPathComponent("p.yaml")
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url
  }

  func testBundledPipelineOpensFittedToItsModel() throws {
    let workspace = try Workspace.open(pipeline: "deep-compression")
    XCTAssertEqual(workspace.datasetName, "mnist-5k")
    XCTAssertEqual(workspace.data.test.inputs.shape.dropFirst().map { $0 }, workspace.model.inputShape)
    XCTAssertEqual(workspace.modelFile?.lastPathComponent, "lenet-300-100.safetensors")
    XCTAssertNotNil(workspace.pipelineText)
    let runner = try workspace.runner(outputDirectory: folder.appendingPathComponent("out"), latencySeconds: 0.01)
    XCTAssertEqual(runner.spec.steps.count, workspace.pipeline.steps.count)
  }

  func testAModelBesideThePipelineFileIsFoundThere() throws {
    let samples = SamplesDirectory.locate()!
    try FileManager.default.copyItem(
      at: samples.appendingPathComponent("models/digits-mlp.safetensors"),
      to: folder.appendingPathComponent("mine.safetensors"))
    let url = try write("model: mine.safetensors\ndataset: digits\nsteps:\n  - technique: huffman\n")
    let workspace = try Workspace.open(pipeline: url.path)
    XCTAssertEqual(workspace.modelFile?.lastPathComponent, "mine.safetensors")
    XCTAssertEqual(workspace.model.inputShape, [1, 8, 8])
  }

  func testNamesFromTheFileAreBlamedAtTheirLine() throws {
    let url = try write("model: lenet-5\ndataset: digits\nsteps:\n  - technique: huffman\n")
    XCTAssertThrowsError(try Workspace.open(pipeline: url.path)) {
      XCTAssertTrue("\($0)".hasPrefix("\(url.path):2: dataset: lenet-5 reads examples"), "\($0)")
    }
    // Given on the command line instead, the same mismatch has no line to point at.
    XCTAssertThrowsError(try Workspace.open(pipeline: url.path, model: "digits-mlp", dataset: "mnist-5k")) {
      XCTAssertTrue("\($0)".hasPrefix("digits-mlp reads examples of shape [1, 8, 8]"), "\($0)")
    }
  }

  func testAPipelineWithoutAModelSaysSo() throws {
    let url = try write("dataset: digits\nsteps:\n  - technique: huffman\n")
    XCTAssertThrowsError(try Workspace.open(pipeline: url.path)) {
      XCTAssertEqual("\($0)", "\(url.path) names no model")
    }
    XCTAssertThrowsError(try WorkspaceSources.pipelineFile("no-such-pipeline")) {
      XCTAssertEqual("\($0)", "no-such-pipeline: no such pipeline file, and not a bundled pipeline")
    }
  }

  /// `lathe run --json` writes a `RunResult` and a search trial decodes the same type: a field
  /// renamed on one side fails here, not in a study.
  func testRunResultRoundTripsThroughTheCLIsJSON() throws {
    let step = StepMetrics(
      name: "prune", technique: "magnitude-prune", accuracy: 0.95, sizeBytes: 1234, compressionRatio: 3.5,
      parameters: 100, nonzeros: 40, bitsPerWeight: 12.5,
      latencyUs: .init(batch1P50: 10, batch1P95: 12, batch256P50: 900, batch256P95: .infinity), wallSeconds: 2,
      modelPath: "/tmp/x.safetensors", extra: ["baseline_accuracy": 0.9, "studentAlone": 0.8])
    var input = step
    input.wallSeconds = 0.5
    let result = RunResult(pipeline: "p", steps: [input, step])
    let json = try LatheJSON.encoder.encode(result)
    let text = String(decoding: json, as: UTF8.self)
    XCTAssertTrue(text.contains("\"batch1_p50\":10"), text)
    XCTAssertTrue(text.contains("\"size_bytes\":1234"), text)
    XCTAssertEqual(try LatheJSON.decoder.decode(RunResult.self, from: json), result)
    let metrics = try ProcessTrialExecutor.metrics(fromRunJSON: json)
    XCTAssertEqual(metrics["size_bytes"], 1234)
    XCTAssertEqual(metrics["latency_b1"], 10)
    XCTAssertEqual(metrics["latency_b256_p95"], Double.infinity)
    XCTAssertEqual(metrics["wall_seconds"], 2.5)
    XCTAssertEqual(Set(metrics.keys), Set(StudySettings.pipelineMetrics))
    XCTAssertThrowsError(try ProcessTrialExecutor.metrics(fromRunJSON: Data("{\"steps\": 3}".utf8)))
  }

  func testStudySetupPutsTrialsBesideTheJournal() throws {
    let url = try write(
      """
      model: digits-mlp
      dataset: digits
      search:
        trials: 3
      steps:
        - technique: magnitude-prune
          sparsity: {search: float, low: 0.1, high: 0.9}
      """)
    let searchable = try SearchablePipeline.read(from: url)
    let location = StudyLocation.sqlite(path: folder.appendingPathComponent("s.study.db").path)
    let setup = StudySetup(
      searchable, storage: try StudySetup.openStorage(searchable, at: location),
      trialsFolder: StudySetup.trialsFolder(for: location, studyName: "s"), jobs: 0,
      binary: URL(fileURLWithPath: "/bin/false"), onUpdate: { _, _ in })
    XCTAssertEqual(setup.trialsFolder.deletingLastPathComponent().path, folder.path)
    XCTAssertEqual(setup.trialsFolder.lastPathComponent, "s.study.trials")
    XCTAssertEqual(setup.jobs, 1)
    XCTAssertEqual(setup.runner.configuration.trials, 3)
  }
}
