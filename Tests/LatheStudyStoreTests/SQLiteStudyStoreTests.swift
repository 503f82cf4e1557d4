import Foundation
import LatheSearch
import LatheStudyStore
import XCTest

/// Studies in Optuna's schema on SQLite: what the runner writes reads back the same, workers
/// sharing the file take different trials, a lost worker's trial runs again once.
/// `PostgresStudyStoreTests` runs the same scenarios on PostgreSQL.
class SQLiteStudyStoreTests: StudyStoreTestCase {
  /// The study every scenario uses, on a new connection each call (as another process would).
  func store(heartbeat: Double? = 10, space: SearchSpace? = nil) throws -> OptunaStudyStore {
    try sqlite(heartbeat: heartbeat, space: space)
  }

  func testAStudyReadsBackAsTheRunnerLeftIt() throws {
    var s = settings()
    s.pruner = .successiveHalving
    s.budget = BudgetSetting(step: "train", scale: [("epochs", 1)], min: 1, max: 9, eta: 3)
    struct Crash: Error {}
    let executor = ClosureExecutor { request in
      if request.number == 4 { throw Crash() }
      let value = TestFunction.branin.evaluate(request.unit)[0]
      return ["value": value / Double(request.budget ?? 1), "size_bytes": 1000 + Double(request.number)]
    }
    let ran = try runner(try store(), trials: 12, settings: s, executor: executor).run()
    XCTAssertEqual(ran.trials.count, 12)
    XCTAssertEqual(ran.trials[4].state, .failed)
    XCTAssertGreaterThan(ran.trials.filter { $0.state == .pruned }.count, 0, "successive halving stopped none")
    // A new connection, as another process would open it.
    let reread = runner(try store(), trials: 12, settings: s).study(try store().read())
    XCTAssertEqual(reread.trials.map(\.number), ran.trials.map(\.number))
    XCTAssertEqual(reread.trials.map(\.state), ran.trials.map(\.state))
    XCTAssertEqual(reread.trials.map(\.unit), ran.trials.map(\.unit))
    XCTAssertEqual(reread.trials.map(\.params), ran.trials.map(\.params))
    XCTAssertEqual(reread.trials.map(\.metrics), ran.trials.map(\.metrics))
    XCTAssertEqual(reread.trials.map(\.rungs), ran.trials.map(\.rungs))
    XCTAssertEqual(reread.trials[4].error, ran.trials[4].error)
    XCTAssertEqual(reread.best?.number, ran.best?.number)
  }

  func testWorkersWithTheirOwnConnectionsTakeEveryTrialOnce() throws {
    // Three runners with two threads each, each on its own connection: like three processes.
    let runners = try (0..<3).map { _ in runner(try store(), trials: 30, jobs: 2) }
    XCTAssertEqual(runTogether(runners), [])
    let study = Study(events: try store().read(), objectives: settings().objectives)
    XCTAssertEqual(study.trials.map(\.number), Array(0..<30))
    XCTAssertEqual(study.complete.count, 30)
  }

  func testATrialWhoseHeartbeatStoppedIsFailedAndRunAgainWithItsValues() throws {
    let storage = try store(heartbeat: 0.2)
    _ = try runner(storage, trials: 3).run()
    // A worker on another host took trial 3, beat once, and died.
    var lost = JournalEvent(event: .start, trial: 3)
    lost.unit = [0.25, 0.75]
    lost.params = space.values(at: [0.25, 0.75])
    lost.host = "elsewhere"
    lost.pid = 1
    try storage.append([lost])
    let appended = Date()
    // With every new trial taken, the runner waits for trial 3: left alone while its last beat
    // is within two intervals, then failed and run again.
    let study = try runner(storage, trials: 4).run()
    XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(appended), 0.4, "taken before two intervals passed")
    XCTAssertEqual(study.trials[3].state, .failed)
    XCTAssertTrue(study.trials[3].error?.contains("worker lost") == true)
    let retry = try XCTUnwrap(study.trials.first { $0.retryOf == 3 })
    XCTAssertEqual(retry.state, .complete)
    XCTAssertEqual(retry.params, lost.params)
    XCTAssertEqual(study.counted, 4)
    XCTAssertEqual(study.complete.count, 4)
    // More trials later: the study goes on past the retry.
    let more = try runner(storage, trials: 5).run()
    XCTAssertEqual(more.counted, 5)
    XCTAssertEqual(more.complete.count, 5)
  }

  func testLiveWorkersKeepTheirTrialsThroughTheirHeartbeats() throws {
    // Trials take five heartbeat intervals; a second runner must not think them lost.
    let slow = ClosureExecutor { request in
      Thread.sleep(forTimeInterval: 1.25)
      return ["value": request.unit[0]]
    }
    let runners = try (0..<2).map { _ in runner(try store(heartbeat: 0.25), trials: 4, executor: slow) }
    XCTAssertEqual(runTogether(runners), [])
    let study = Study(events: try store().read(), objectives: settings().objectives)
    XCTAssertEqual(study.trials.filter { $0.state == .failed }.map(\.number), [])
    XCTAssertEqual(study.complete.count, 4)
  }

  func testDistributionsOfEveryKindReadBackAsTheirValues() throws {
    let space = SearchSpace([
      SearchDimension(name: "lr", kind: .float(low: 0.001, high: 0.1, log: true)),
      SearchDimension(name: "epochs", kind: .int(low: 2, high: 10, log: false)),
      SearchDimension(name: "bits", kind: .int(low: 2, high: 8, log: true)),
      SearchDimension(name: "optimizer", kind: .choice([.string("sgd"), .string("adam")])),
      SearchDimension(name: "flag", kind: .choice([.bool(true), .bool(false)])),
      SearchDimension(name: "width", kind: .choice([.int(16), .int(32), .float(0.5)])),
    ])
    let executor = ClosureExecutor { _ in ["value": 1] }
    let ran = try runner(try store(space: space), trials: 8, space: space, executor: executor).run()
    let reread = runner(try store(space: space), trials: 8, space: space).study(try store(space: space).read())
    XCTAssertEqual(reread.trials.map(\.params), ran.trials.map(\.params))
    XCTAssertEqual(reread.trials.count, 8)
    XCTAssertTrue(reread.trials.allSatisfy { $0.params.count == 6 }, "\(reread.trials.map(\.params))")
  }

  func testAnotherSpaceIsRefused() throws {
    _ = try runner(try store(), trials: 2).run()
    let other = SearchSpace([SearchDimension(name: "z", kind: .int(low: 0, high: 3, log: false))])
    XCTAssertThrowsError(try runner(try store(space: other), trials: 4, space: other).run()) {
      XCTAssertTrue($0 is StudyMismatch, "\($0)")
    }
  }
}

/// Errors from worker threads, for the test thread to check.
final class FailureBox: @unchecked Sendable {
  private let lock = NSLock()
  private var failures: [String] = []
  func add(_ failure: String) { lock.withLock { failures.append(failure) } }
  var all: [String] { lock.withLock { failures } }
}
