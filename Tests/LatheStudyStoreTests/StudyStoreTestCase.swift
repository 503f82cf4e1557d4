import Foundation
import LatheSearch
import LatheStudyStore
import XCTest

/// What the store tests share: a temporary folder, a two-dimensional space and a runner of
/// Branin on a store.
class StudyStoreTestCase: XCTestCase {
  var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  let space = SearchSpace([
    SearchDimension(name: "x0", kind: .float(low: 0, high: 1, log: false)),
    SearchDimension(name: "x1", kind: .float(low: 0, high: 1, log: false)),
  ])

  static let branin = ClosureExecutor { request in
    ["value": TestFunction.branin.evaluate([request.values["x0"]!.number!, request.values["x1"]!.number!])[0]]
  }

  func settings() -> StudySettings {
    var s = StudySettings()
    s.objectives = [Objective(.minimize, "value")]
    return s
  }

  func sqlite(_ name: String = "s.study.db", heartbeat: Double? = 10, space: SearchSpace? = nil) throws
    -> OptunaStudyStore
  {
    try OptunaStudyStore(
      connection: try SQLiteStudyConnection(path: folder.appendingPathComponent(name).path), studyName: "s",
      space: space ?? self.space, objectiveMetrics: ["value"], heartbeatInterval: heartbeat)
  }

  func runner(
    _ storage: any StudyStorage, trials: Int, jobs: Int = 1, settings: StudySettings? = nil,
    space: SearchSpace? = nil, executor: any TrialExecutor = branin, staleAfter: Double? = nil
  ) -> StudyRunner {
    StudyRunner(
      configuration: .init(
        space: space ?? self.space, settings: settings ?? self.settings(), sampler: TPESampler(), trials: trials,
        jobs: jobs, pipelineName: "s", staleAfter: staleAfter),
      storage: storage, executor: executor)
  }

  /// Runs each runner on a thread of its own, as separate processes would, and returns the
  /// errors they threw.
  func runTogether(_ runners: [StudyRunner]) -> [String] {
    let group = DispatchGroup()
    let failures = FailureBox()
    for runner in runners {
      group.enter()
      Thread.detachNewThread {
        defer { group.leave() }
        do { _ = try runner.run() } catch { failures.add("\(error)") }
      }
    }
    group.wait()
    return failures.all
  }

  /// A fixture copied to the temporary folder (the store writes to what it opens).
  func fixture(_ name: String) throws -> String {
    let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    let copy = folder.appendingPathComponent(name)
    try FileManager.default.copyItem(at: source, to: copy)
    return copy.path
  }
}
