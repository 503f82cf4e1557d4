import Foundation
import LatheCompress
import LatheSearch
import LatheStudyStore
import LatheTestSupport
import LatheWorkspace
import XCTest

#if canImport(Glibc)
  import Glibc
#endif

/// Studies driven through the journal with in-process executors: parallel workers, resume after
/// a kill, failures, early stopping, and one real `lathe search` run end to end.
final class SearchStudyTests: XCTestCase {
  var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-study-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  let space = SearchSpace([
    SearchDimension(name: "x", kind: .float(low: 0, high: 1, log: false)),
    SearchDimension(name: "y", kind: .float(low: 0, high: 1, log: false)),
  ])

  func settings(objectives: [Objective] = [Objective(.minimize, "value")], seed: UInt64 = 3) -> StudySettings {
    var s = StudySettings()
    s.objectives = objectives
    s.seed = seed
    return s
  }

  static let branin = ClosureExecutor { request in
    ["value": TestFunction.branin.evaluate(request.unit)[0]]
  }

  func runner(
    _ journal: URL, trials: Int, jobs: Int, sampler: any Sampler = TPESampler(), settings: StudySettings? = nil,
    executor: any TrialExecutor = branin
  ) -> StudyRunner {
    StudyRunner(
      configuration: .init(
        space: space, settings: settings ?? self.settings(), sampler: sampler, trials: trials, jobs: jobs),
      storage: StudyJournal(url: journal), executor: executor)
  }

  func testParallelWorkersRunEveryTrialOnce() throws {
    let url = folder.appendingPathComponent("s.jsonl")
    let study = try runner(url, trials: 30, jobs: 4).run()
    XCTAssertEqual(study.trials.map(\.number), Array(0..<30))
    XCTAssertTrue(study.trials.allSatisfy { $0.state == .complete })
    let starts = try StudyJournal(url: url).read().filter { $0.event == .start }
    XCTAssertEqual(starts.count, 30)
    XCTAssertNotNil(study.best)
    XCTAssertEqual(study.bestSoFar.count, 30)
  }

  func testASeededStudyReplays() throws {
    let a = try runner(folder.appendingPathComponent("a.jsonl"), trials: 20, jobs: 1).run()
    let b = try runner(folder.appendingPathComponent("b.jsonl"), trials: 20, jobs: 1).run()
    XCTAssertEqual(a.trials.map(\.unit), b.trials.map(\.unit))
  }

  func testResumeRunsOnlyTheMissingTrials() throws {
    let url = folder.appendingPathComponent("s.jsonl")
    let first = try runner(url, trials: 12, jobs: 2).run()
    XCTAssertEqual(first.finished.count, 12)
    let units = first.trials.map(\.unit)
    let second = try runner(url, trials: 25, jobs: 3).run()
    XCTAssertEqual(second.trials.map(\.number), Array(0..<25))
    XCTAssertEqual(second.trials.prefix(12).map(\.unit), units)
    let events = try StudyJournal(url: url).read()
    XCTAssertEqual(events.filter { $0.event == .start }.count, 25)
    XCTAssertEqual(events.filter { $0.event == .finish }.count, 25)
    // Resuming a finished study does nothing.
    _ = try runner(url, trials: 25, jobs: 2).run()
    XCTAssertEqual(try StudyJournal(url: url).read().count, events.count)
  }

  func testATrialLeftRunningByADeadProcessIsRunAgainWithItsValues() throws {
    let url = folder.appendingPathComponent("s.jsonl")
    _ = try runner(url, trials: 5, jobs: 1).run()
    // A process that has exited: its pid is free.
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    try process.run()
    process.waitUntilExit()
    var orphan = JournalEvent(event: .start, trial: 5)
    orphan.unit = [0.25, 0.75]
    orphan.host = ProcessInfo.processInfo.hostName
    orphan.pid = process.processIdentifier
    var alive = JournalEvent(event: .start, trial: 6)
    alive.unit = [0.5, 0.5]
    alive.host = "elsewhere"
    alive.pid = 1
    try StudyJournal(url: url).append([orphan, alive])
    let study = try runner(url, trials: 9, jobs: 2).run()
    // The lost trial is marked failed and runs again as a new trial with its values; it does
    // not count toward the study's nine.
    XCTAssertEqual(study.trials[5].state, .failed)
    XCTAssertTrue(study.trials[5].error?.contains("worker lost") == true, "\(study.trials[5].error ?? "")")
    let retry = try XCTUnwrap(study.trials.first { $0.retryOf == 5 })
    XCTAssertEqual(retry.state, .complete)
    XCTAssertEqual(retry.unit, [0.25, 0.75])
    XCTAssertEqual(study.counted, 9)
    XCTAssertEqual(study.trials.count, 10)
    // Another host's running trial is left to its owner...
    XCTAssertEqual(study.trials[6].state, .running)
    // ...until it has run longer than staleAfter.
    let patient = StudyRunner(
      configuration: .init(
        space: space, settings: settings(), sampler: TPESampler(), trials: 9, jobs: 1, staleAfter: 0),
      storage: StudyJournal(url: url), executor: Self.branin)
    let retaken = try patient.run()
    XCTAssertEqual(retaken.trials[6].state, .failed)
    XCTAssertEqual(retaken.trials.first { $0.retryOf == 6 }?.unit, [0.5, 0.5])
    XCTAssertEqual(retaken.trials.first { $0.retryOf == 6 }?.state, .complete)
    XCTAssertEqual(retaken.counted, 9)
    XCTAssertEqual(retaken.complete.count, 9)
  }

  func testFailedTrialsAreRecordedAndTheStudyGoesOn() throws {
    let url = folder.appendingPathComponent("s.jsonl")
    struct Crash: Error {}
    let executor = ClosureExecutor { request in
      if request.number % 3 == 1 { throw Crash() }
      return ["value": request.unit[0]]
    }
    let study = try runner(url, trials: 12, jobs: 3, executor: executor).run()
    XCTAssertEqual(study.trials.filter { $0.state == .failed }.count, 4)
    XCTAssertEqual(study.complete.count, 8)
    XCTAssertNotNil(study.trials.first { $0.state == .failed }?.error)
  }

  func testAJournalOfAnotherSpaceIsRefused() throws {
    let url = folder.appendingPathComponent("s.jsonl")
    _ = try runner(url, trials: 2, jobs: 1).run()
    let other = StudyRunner(
      configuration: .init(
        space: SearchSpace([SearchDimension(name: "z", kind: .int(low: 0, high: 3, log: false))]),
        settings: settings(), sampler: RandomSampler(), trials: 4, jobs: 1),
      storage: StudyJournal(url: url), executor: Self.branin)
    XCTAssertThrowsError(try other.run()) { XCTAssertTrue($0 is StudyMismatch) }
  }

  func testConstraintsAndParetoFront() throws {
    let url = folder.appendingPathComponent("s.jsonl")
    var s = settings(objectives: [Objective(.minimize, "f1"), Objective(.minimize, "f2")])
    s.constraints = [Constraint("f1", .atLeast, 0.1)]
    let zdt = TestFunction.zdt1(dimensions: 2)
    let executor = ClosureExecutor { request in
      let f = zdt.evaluate(request.unit)
      return ["f1": f[0], "f2": f[1]]
    }
    let study = try runner(url, trials: 40, jobs: 2, sampler: NSGA2Sampler(), settings: s, executor: executor).run()
    let front = study.paretoFront
    XCTAssertFalse(front.isEmpty)
    XCTAssertTrue(front.allSatisfy { $0.metrics["f1"]! >= 0.1 })
    for a in front {
      for b in study.feasible {
        XCTAssertFalse(Pareto.dominates(study.losses(b)!, study.losses(a)!))
      }
    }
  }

  /// A trial's quality shows early: the value at a small budget predicts the full one.
  static let budgeted = ClosureExecutor { request in
    let b = Double(request.budget ?? 9)
    return ["value": TestFunction.branin.evaluate(request.unit)[0] + 10 / b]
  }

  func testEarlyStoppingStopsSomeTrialsAtLowBudgets() throws {
    for pruner in [PrunerKind.median, .successiveHalving, .hyperband] {
      let url = folder.appendingPathComponent("\(pruner.rawValue).jsonl")
      var s = settings()
      s.pruner = pruner
      s.budget = BudgetSetting(step: "train", scale: [("epochs", 1)], min: 1, max: 9, eta: 3)
      let study = try runner(
        url, trials: 30, jobs: 2, sampler: RandomSampler(), settings: s, executor: Self.budgeted
      ).run()
      let pruned = study.trials.filter { $0.state == .pruned }
      XCTAssertGreaterThan(pruned.count, 5, pruner.rawValue)
      XCTAssertGreaterThan(study.complete.count, 0, pruner.rawValue)
      XCTAssertTrue(pruned.allSatisfy { !$0.rungs.isEmpty }, pruner.rawValue)
      XCTAssertTrue(study.complete.allSatisfy { $0.metrics["value"] != nil }, pruner.rawValue)
      if pruner == .hyperband {
        // Bracket 2 starts at the full budget: never stopped.
        XCTAssertTrue(study.trials.filter { $0.number % 3 == 2 }.allSatisfy { $0.state == .complete })
      }
    }
  }

  func testConstraintsAllowForFloatRounding() {
    let floor = Constraint("accuracy", .atLeast, 0.94)
    XCTAssertEqual(floor.violation(["accuracy": Double(Float(0.94))]), 0)
    XCTAssertGreaterThan(floor.violation(["accuracy": 0.939]), 0)
    XCTAssertEqual(Constraint("size_bytes", .atMost, 50000).violation(["size_bytes": 60000]), 0.2, accuracy: 1e-12)
    XCTAssertEqual(Constraint("size_bytes", .atMost, 50000).violation([:]), 1)
  }

  func testImportanceFindsTheDimensionThatMatters() {
    var rng = SearchRandom(seed: 1)
    let points = (0..<60).map { _ in [rng.unit(), rng.unit(), rng.unit()] }
    let values = points.map { 5 * $0[1] * $0[1] + 0.1 * $0[0] }
    let importance = ParameterImportance.estimate(points: points, values: values, names: ["a", "b", "c"])
    XCTAssertEqual(importance.first?.name, "b")
    XCTAssertGreaterThan(importance.first!.share, 0.8)
    XCTAssertEqual(importance.map(\.share).reduce(0, +), 1, accuracy: 1e-9)
  }

  /// The real thing: `lathe search` with worker processes, when the binary has been built.
  func testLatheSearchEndToEnd() throws {
    // The test binary sits in the build folder next to `lathe`.
    let tests =
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let binary = URL(fileURLWithPath: tests).deletingLastPathComponent().appendingPathComponent("lathe")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
      throw XCTSkip("build lathe first (swift build) to run the end-to-end search")
    }
    let pipeline = folder.appendingPathComponent("tiny.yaml")
    try TinySearchPipeline.write(to: pipeline, name: "tiny", settings: ["trials: 3"])
    let process = Process()
    process.executableURL = binary
    process.arguments = ["search", pipeline.path, "--jobs", "2", "--json", "--sampler", "random"]
    process.currentDirectoryURL = folder
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    XCTAssertEqual(process.terminationStatus, 0)
    let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    XCTAssertEqual(json?["complete"] as? Int, 3)
    XCTAssertFalse((json?["pareto_front"] as? [Any] ?? []).isEmpty)
    let best = try PipelineSpec.read(from: folder.appendingPathComponent("tiny.best.yaml"))
    XCTAssertNil(best.search)
    for step in best.steps { XCTAssertNoThrow(try Techniques.make(step, file: "best")) }
    // The study is in Optuna's schema beside the pipeline, one row per trial.
    let location = StudyLocation.sqlite(path: folder.appendingPathComponent("tiny.study.db").path)
    let stored = try StudySetup.openStorage(try SearchablePipeline.read(from: pipeline), at: location).read()
    XCTAssertEqual(stored.filter { $0.event == .start }.count, 3)
    XCTAssertEqual(stored.filter { $0.event == .finish && $0.state == .complete }.count, 3)
    // The best pipeline is kept in the study too (a study user attribute optuna-dashboard shows).
    let kept = Study(events: stored, objectives: []).bestPipeline
    XCTAssertEqual(kept, try String(contentsOf: folder.appendingPathComponent("tiny.best.yaml"), encoding: .utf8))
    let model = ProcessTrialExecutor.finalModel(directory: folder.appendingPathComponent("tiny.study.trials"), trial: 0)
    XCTAssertEqual(model?.lastPathComponent, "01-prune.safetensors")
  }
}
