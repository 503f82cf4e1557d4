import Foundation
import LatheStudyStore
import LatheTestSupport
import XCTest

@testable import LatheTUI

/// The Search screen's commands on the real engine: a two-trial study of a tiny search
/// pipeline whose trials run as `lathe run` processes, then one trial loaded into the session.
final class EngineSearchTests: XCTestCase {
  var folder: URL!
  /// Studies' folders (the engine makes them under the temporary directory), removed afterwards.
  var studyFolders: [URL] = []

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-engine-search-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    for url in [folder!] + studyFolders { try? FileManager.default.removeItem(at: url) }
  }

  /// The `lathe` built with the tests, beside the test bundle.
  func latheBinary() throws -> URL {
    let tests =
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let binary = URL(fileURLWithPath: tests).deletingLastPathComponent().appendingPathComponent("lathe")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
      throw XCTSkip("build lathe first (swift build) to run trials in worker processes")
    }
    return binary
  }

  /// Polls the session until `done` holds of its state.
  func wait(
    _ session: EngineSession, timeout: TimeInterval = 60, file: StaticString = #filePath, line: UInt = #line,
    until done: (WorkbenchState) -> Bool
  ) {
    let deadline = Date().addingTimeInterval(timeout)
    while !done(session.state) && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    XCTAssertTrue(done(session.state), "timed out; log: \(session.state.log.map(\.text))", file: file, line: line)
  }

  /// Two per-layer sparsities and a learning rate for the small MLP: a trial takes moments.
  func writeTinySearch() throws -> URL {
    let pipeline = folder.appendingPathComponent("tiny-search.yaml")
    return try TinySearchPipeline.write(to: pipeline, name: "tiny-search", settings: ["sampler: random"])
  }

  func testStudyRunsInWorkersAndATrialLoads() throws {
    let pipeline = try writeTinySearch()
    let plain = folder.appendingPathComponent("plain.yaml")
    try "name: plain\nmodel: digits-mlp\ndataset: digits\nsteps: []\n".write(
      to: plain, atomically: true, encoding: .utf8)
    let session = try EngineSession(
      model: "digits-mlp", dataset: "digits", pipeline: plain.path, latencySeconds: 0.01,
      workerBinary: try latheBinary())
    defer { session.shutdown(keepingFolder: false) }
    wait(session) { !$0.isBusy }
    XCTAssertEqual(session.searchPipelines.first, pipeline.path, "search files beside the open pipeline come first")
    XCTAssertTrue(session.searchPipelines.contains("search-pruning"), "then the bundled ones")

    try session.startSearch(SearchRequest(pipeline: pipeline.path, trials: 2, jobs: 2))
    XCTAssertThrowsError(try session.startSearch(SearchRequest(pipeline: pipeline.path, trials: 2, jobs: 2)))
    wait(session) { $0.search?.isRunning == false }
    let search = try XCTUnwrap(session.state.search)
    studyFolders.append(URL(fileURLWithPath: search.storage).deletingLastPathComponent())
    XCTAssertNil(search.error)
    XCTAssertEqual(search.trials.map(\.state), [.complete, .complete], search.trials.map { $0.error ?? "" }.joined())
    XCTAssertEqual(search.trials[0].settings.map(\.name), ["prune.sparsity.fc1", "prune.sparsity.fc2", "prune.lr"])
    XCTAssertTrue(search.trials.allSatisfy { ($0.accuracy ?? 0) > 0.5 && ($0.sizeBytes ?? 0) > 0 })
    XCTAssertFalse(search.front.isEmpty)
    XCTAssertEqual(search.bestSoFar.count, 2)
    XCTAssertTrue(FileManager.default.fileExists(atPath: search.storage))
    XCTAssertTrue(session.state.log.contains { $0.text.hasPrefix("search ended: 2 of 2 trials finished") })

    let trial = search.front[0]
    // b on the Search screen: the best trial's pipeline, written where the user says.
    let best = folder.appendingPathComponent("best.yaml")
    try session.saveTrialPipeline(trial, to: best.path)
    let saved = try String(contentsOf: best, encoding: .utf8)
    XCTAssertTrue(saved.hasPrefix("# Found by lathe search (trial \(trial))"), saved)
    XCTAssertFalse(saved.contains("search:"), "a plain pipeline, ranges filled in")
    XCTAssertThrowsError(try session.saveTrialPipeline(99, to: best.path)) {
      XCTAssertEqual("\($0)", "the study has no trial 99")
    }

    try session.loadTrial(trial)
    wait(session) { !$0.isBusy && $0.baseline != nil }
    let state = session.state
    XCTAssertEqual(state.model?.name, "tiny-search trial \(trial)")
    XCTAssertEqual(state.steps.map(\.name), ["prune"])
    let measured = try XCTUnwrap(state.baseline)
    let record = try XCTUnwrap(search.trials.first { $0.number == trial })
    XCTAssertEqual(measured.accuracy, record.accuracy ?? -1, accuracy: 1e-6, "the trial's own model, measured again")
    let written = try String(contentsOfFile: try XCTUnwrap(session.sources.pipeline), encoding: .utf8)
    XCTAssertTrue(written.hasPrefix("# Found by lathe search (trial \(trial))"), written)
    XCTAssertFalse(written.contains("search:"), "a plain pipeline, ranges filled in")
    XCTAssertEqual(state.search, search, "the study stays on the Search screen")

    // n runs the trial's pipeline on its (sparse) model: it used to say the model could not train.
    session.runNextStep()
    wait(session) { !$0.isBusy }
    XCTAssertEqual(session.state.steps.first?.state, .done, "\(session.state.log.map(\.text))")
  }

  func testCancelStopsTakingTrials() throws {
    let pipeline = try writeTinySearch()
    let session = try EngineSession(
      model: "digits-mlp", dataset: "digits", pipeline: nil, latencySeconds: 0.01, workerBinary: try latheBinary())
    defer { session.shutdown(keepingFolder: false) }
    try session.startSearch(SearchRequest(pipeline: pipeline.path, trials: 50, jobs: 1))
    wait(session) { $0.search?.runningCount == 1 }
    session.cancelSearch()
    wait(session) { $0.search?.isRunning == false }
    let search = try XCTUnwrap(session.state.search)
    studyFolders.append(URL(fileURLWithPath: search.storage).deletingLastPathComponent())
    XCTAssertLessThanOrEqual(search.trials.count, 2, "no new trials after c")
    XCTAssertEqual(search.runningCount, 0, "the running trial finished")
    XCTAssertTrue(session.state.log.contains { $0.text.hasPrefix("stopping the search") })
    let connection = try SQLiteStudyConnection(path: search.storage)
    let finished = try connection.query("SELECT COUNT(*) FROM trials WHERE state IN ('COMPLETE', 'PRUNED', 'FAIL')")
    XCTAssertEqual(finished.first?.first?.int, search.finishedCount, "finished trials stay in the study")
  }

  func testMistakesAreReported() throws {
    let session = try EngineSession(
      model: "digits-mlp", dataset: "digits", pipeline: nil, latencySeconds: 0.01, workerBinary: try latheBinary())
    defer { session.shutdown(keepingFolder: false) }
    XCTAssertThrowsError(try session.startSearch(SearchRequest(pipeline: "deep-compression", trials: 2, jobs: 1))) {
      XCTAssertTrue("\($0)".contains("nothing to search"), "\($0)")
    }
    XCTAssertThrowsError(try session.loadTrial(0)) { XCTAssertEqual("\($0)", "no study has run yet") }
    session.cancelSearch()
    XCTAssertNil(session.state.search)
  }
}
