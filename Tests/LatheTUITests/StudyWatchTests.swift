import Foundation
import LatheSearch
import LatheStudyStore
import LatheTestSupport
import LatheWorkspace
import XCTest

@testable import LatheTUI

/// `lathe workbench --study`: a study that workers on other machines run, read from its SQLite
/// database while they add trials. The workers here are `StudyRunner`s in this process with
/// made-up metrics, each naming its own host as a worker on another machine would.
final class StudyWatchTests: XCTestCase {
  var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-study-watch-\(UUID())")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  /// The tiny search pipeline with an accuracy floor of 0.9, and its file.
  func tinySearch(name: String = "tiny-search", high: String = "0.9") throws -> (URL, SearchablePipeline) {
    let text = TinySearchPipeline.text(name: name, settings: ["constraints: [accuracy >= 0.9]", "trials: 4"])
      .replacingOccurrences(of: "high: 0.9}", with: "high: \(high)}")
    let url = folder.appendingPathComponent("\(name).yaml")
    try text.write(to: url, atomically: true, encoding: .utf8)
    return (url, try SearchablePipeline.read(from: url))
  }

  var studyFile: URL { folder.appendingPathComponent("tiny-search.study.db") }

  /// One worker on `host` taking trials of the study until it has `total`. Odd trials miss
  /// the accuracy floor. The study is `studyFile`'s unless `location` and `studyName` say.
  func runWorker(
    host: String, total: Int, _ searchable: SearchablePipeline, location: StudyLocation? = nil,
    studyName: String? = nil
  ) throws {
    // The runner names its host from the environment when it is made, as in a container.
    setenv("LATHE_WORKER_HOST", host, 1)
    defer { unsetenv("LATHE_WORKER_HOST") }
    let storage = try (location ?? .sqlite(path: studyFile.path)).open(
      studyName: studyName ?? searchable.spec.name, space: searchable.space,
      objectiveMetrics: searchable.settings.objectives.map(\.metric))
    let runner = StudyRunner(
      configuration: .init(
        space: searchable.space, settings: searchable.settings, sampler: Samplers.named("random")!, trials: total,
        jobs: 1, pipelineName: searchable.spec.name),
      storage: storage,
      executor: ClosureExecutor { request in
        [
          "accuracy": request.number % 2 == 0 ? 0.95 : 0.88, "size_bytes": 10_000 - 1000 * Double(request.number),
          "latency_b1": 50 + Double(request.number),
        ]
      })
    try runner.run()
  }

  /// Polls the session until `done` holds of its study.
  func wait(
    _ session: EngineSession, timeout: TimeInterval = 30, file: StaticString = #filePath, line: UInt = #line,
    until done: (SearchState) -> Bool
  ) {
    let deadline = Date().addingTimeInterval(timeout)
    while !(session.state.search.map(done) ?? false) && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    XCTAssertTrue(
      session.state.search.map(done) ?? false, "timed out; study: \(String(describing: session.state.search))",
      file: file, line: line)
  }

  func testTheWorkbenchShowsTrialsFromEveryHostAsTheyArrive() throws {
    let (pipeline, searchable) = try tinySearch()
    try runWorker(host: "node-a", total: 3, searchable)
    let session = try EngineSession(model: "digits-mlp", dataset: "digits", pipeline: nil, latencySeconds: 0.01)
    defer { session.shutdown(keepingFolder: false) }
    try session.watchStudy("sqlite:///" + studyFile.path, pipeline: pipeline.path, interval: 0.05)
    wait(session) { $0.trials.count == 3 }
    var search = try XCTUnwrap(session.state.search)
    XCTAssertTrue(search.isWatching)
    XCTAssertNil(search.error)
    XCTAssertEqual(search.dashboardURL, "sqlite:///" + studyFile.path)
    XCTAssertEqual(search.trials.map(\.host), ["node-a", "node-a", "node-a"])
    XCTAssertFalse(search.isRunning, "no trial runs now")
    XCTAssertFalse(session.state.unsaved.contains("the study"), "a watched study lives on in its database")

    // Another machine joins and adds two trials while the workbench watches.
    try runWorker(host: "node-b", total: 5, searchable)
    wait(session) { $0.trials.count == 5 }
    search = try XCTUnwrap(session.state.search)
    XCTAssertEqual(search.trials.map(\.host), ["node-a", "node-a", "node-a", "node-b", "node-b"])
    XCTAssertEqual(search.trials.map(\.state), Array(repeating: .complete, count: 5))
    XCTAssertEqual(search.totalTrials, 5, "more trials than the pipeline's 4: the workers were given more")
    XCTAssertEqual(search.trials.map(\.violations.isEmpty), [true, false, true, false, true], "odd trials miss")
    XCTAssertEqual(search.trials[1].violations, ["accuracy >= 0.9"])
    XCTAssertFalse(search.front.contains(1), "a trial that misses a constraint is never best")
    XCTAssertTrue(session.state.log.contains { $0.text.hasPrefix("watching study tiny-search in ") })
  }

  func testAStudyNotThereYetIsWaitedForWithoutMakingIt() throws {
    let (_, searchable) = try tinySearch()
    let watcher = StudyWatcher(
      location: .sqlite(path: studyFile.path), studyName: "tiny-search", searchable: searchable, onChange: { _ in })
    var state = watcher.poll()
    XCTAssertTrue(state.error?.contains("no such file yet") ?? false, String(describing: state.error))
    XCTAssertFalse(FileManager.default.fileExists(atPath: studyFile.path), "watching creates nothing")
    XCTAssertTrue(state.trials.isEmpty)

    try runWorker(host: "node-a", total: 2, searchable)
    state = watcher.poll()
    XCTAssertNil(state.error)
    XCTAssertEqual(state.trials.count, 2)

    let other = StudyWatcher(
      location: .sqlite(path: studyFile.path), studyName: "another", searchable: searchable, onChange: { _ in })
    XCTAssertTrue(other.poll().error?.contains("has no study named another yet") ?? false)
  }

  func testAStudyOfAnotherSpaceIsShownAsAnError() throws {
    let (_, searchable) = try tinySearch()
    try runWorker(host: "node-a", total: 1, searchable)
    let (_, narrower) = try tinySearch(name: "narrower", high: "0.8")
    let watcher = StudyWatcher(
      location: .sqlite(path: studyFile.path), studyName: "tiny-search", searchable: narrower, onChange: { _ in })
    let state = watcher.poll()
    XCTAssertTrue(
      state.error?.contains("searches another space than narrower.yaml") ?? false, String(describing: state.error))
    XCTAssertEqual(state.trials.count, 1, "its trials still show")
  }

  func testAWatchedStudyCannotBeCancelledOrReplaced() throws {
    let (pipeline, searchable) = try tinySearch()
    try runWorker(host: "node-a", total: 1, searchable)
    let session = try EngineSession(model: "digits-mlp", dataset: "digits", pipeline: nil, latencySeconds: 0.01)
    defer { session.shutdown(keepingFolder: false) }
    try session.watchStudy(studyFile.path, pipeline: pipeline.path, interval: 0.05)
    wait(session) { $0.trials.count == 1 }
    let deadline = Date().addingTimeInterval(30)
    while session.state.isBusy && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    let app = WorkbenchApp(session: session, theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil))
    app.open(SearchScreen(app: app))
    let screen = try XCTUnwrap(app.top as? SearchScreen)
    XCTAssertFalse(screen.isSettingUp)
    for key in [Key("n"), Key("c")] {
      guard case .unhandled = screen.handle(key, app: app) else { return XCTFail("\(key) does something") }
    }
    let bar = app.render(width: 140, height: 40).text().split(separator: "\n").last.map(String.init) ?? ""
    XCTAssertFalse(bar.contains("c cancel") || bar.contains("n new study"), bar)
    XCTAssertTrue(bar.contains("s/S sort"), bar)
    // Its trial's model was made on another machine: none here to open.
    app.handle(.enter)
    XCTAssertTrue(app.render(width: 140, height: 40).text().contains("left no model in"))
  }

  /// The same through a PostgreSQL server (`LATHE_TEST_POSTGRES`, as the study-store tests
  /// use; skipped without one), as a cluster shares a study. Study names are unique per run.
  func testAStudyOnAPostgreSQLServer() throws {
    guard let url = ProcessInfo.processInfo.environment["LATHE_TEST_POSTGRES"], !url.isEmpty else {
      throw XCTSkip("LATHE_TEST_POSTGRES is not set (scripts/postgres-server start DIR prints one)")
    }
    let (_, searchable) = try tinySearch()
    let location = try StudyLocation(url)
    let name = "lathe-watch-\(UUID().uuidString.prefix(8).lowercased())"
    let watcher = StudyWatcher(location: location, studyName: name, searchable: searchable, onChange: { _ in })
    XCTAssertTrue(watcher.poll().error?.contains("has no study named \(name) yet") ?? false)
    try runWorker(host: "node-a", total: 2, searchable, location: location, studyName: name)
    try runWorker(host: "node-b", total: 3, searchable, location: location, studyName: name)
    let state = watcher.poll()
    XCTAssertNil(state.error)
    XCTAssertEqual(state.trials.map(\.host), ["node-a", "node-a", "node-b"])
    XCTAssertEqual(state.trials[1].violations, ["accuracy >= 0.9"])
    XCTAssertEqual(state.dashboardURL, StudyLocation.redacted(url))
  }

  // MARK: the screen, from a study written row by row

  /// A study as two machines left it: node-b's worker was lost during trial 2, which node-a
  /// runs again as trial 5; trial 3 misses the accuracy floor. Fixed times and seconds, so
  /// the frames are the same on every run.
  func writeFixedStudy(_ searchable: SearchablePipeline) throws {
    let storage = try StudySetup.openStorage(searchable, at: .sqlite(path: studyFile.path))
    let t0 = 1_700_000_000.0
    var header = JournalEvent(event: .study, time: t0)
    header.pipeline = searchable.spec.name
    header.space = searchable.space.fingerprint
    header.objectives = searchable.settings.objectives.map(\.description)
    header.sampler = "nsga2"
    header.seed = 0
    var events = [header]
    let units: [[Double]] = [[0.2, 0.4, 0.5], [0.7, 0.8, 0.3], [0.9, 0.1, 0.6], [0.95, 0.9, 0.2], [0.5, 0.5, 0.5]]
    let hosts = ["node-a", "node-b.cluster", "node-b.cluster", "node-a", "node-a"]
    let metrics: [[String: Double]?] = [
      ["accuracy": 0.962, "size_bytes": 48_200, "latency_b1": 41],
      ["accuracy": 0.931, "size_bytes": 21_900, "latency_b1": 33], nil,
      ["accuracy": 0.874, "size_bytes": 9_800, "latency_b1": 29],
      ["accuracy": 0.941, "size_bytes": 30_100, "latency_b1": 36],
    ]
    for (number, unit) in units.enumerated() {
      var start = JournalEvent(event: .start, trial: number, time: t0 + Double(number))
      start.unit = unit
      start.params = searchable.space.values(at: unit)
      start.host = hosts[number]
      start.pid = Int32(4000 + number)
      var finish = JournalEvent(event: .finish, trial: number, time: t0 + 20 + Double(number) * 10)
      finish.seconds = 12.5 + Double(number)
      if let values = metrics[number] {
        finish.state = .complete
        finish.metrics = values
      } else {
        finish.state = .failed
        finish.error = "worker lost (node-b.cluster pid 4002); run again as trial 5"
      }
      events += [start, finish]
    }
    var retry = JournalEvent(event: .start, trial: 5, time: t0 + 70)
    retry.unit = units[2]
    retry.params = searchable.space.values(at: units[2])
    retry.host = "node-a"
    retry.pid = 4005
    retry.retryOf = 2
    events.append(retry)
    try storage.append(events)
  }

  /// The fixed study as the watcher reads it, in a session that shows it.
  func watchedApp(glyphs: Glyphs) throws -> (WorkbenchApp, SearchState) {
    let (_, searchable) = try tinySearch()
    try writeFixedStudy(searchable)
    let watcher = StudyWatcher(
      location: .sqlite(path: studyFile.path), studyName: "tiny-search", searchable: searchable, onChange: { _ in })
    var search = watcher.poll()
    XCTAssertNil(search.error)
    XCTAssertEqual(search.dashboardURL, "sqlite:///" + studyFile.path)
    // The temporary folder's name changes every run; the frames show a fixed one.
    search.dashboardURL = "sqlite:///studies/tiny-search.study.db"
    let session = FakeWorkbenchSession()
    session.state.search = search
    let app = WorkbenchApp(
      session: session, theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil), glyphs: glyphs)
    app.open(SearchScreen(app: app))
    return (app, search)
  }

  func testLostRetriedAndInfeasibleTrialsAreMarked() throws {
    let (app, search) = try watchedApp(glyphs: .unicode)
    XCTAssertEqual(search.trials.map(\.number), [0, 1, 2, 3, 4, 5])
    XCTAssertTrue(search.trials[2].isLost)
    XCTAssertEqual(search.trials[5].retryOf, 2)
    XCTAssertEqual(search.trials[5].state, .running)
    XCTAssertEqual(search.trials.map(\.violations.isEmpty), [true, true, true, false, true, true])
    XCTAssertTrue(search.isRunning, "trial 5 runs")

    let frame = app.render(width: 140, height: 40, tick: 1).text()
    assertGolden(frame, "search-watch-140x40")
    let lines = frame.split(separator: "\n").map(String.init)
    func row(_ number: Int, _ state: String) -> String? { lines.first { $0.contains(" \(number) \(state)") } }
    XCTAssertTrue(row(3, "complete")?.contains("┃✓ ✗") ?? false, "trial 3 misses the floor:\n\(frame)")
    XCTAssertTrue(row(2, "lost")?.contains("node-b") ?? false, "the lost trial, on its host:\n\(frame)")
    XCTAssertTrue(row(5, "running")?.contains("retry of #2") ?? false, frame)
    XCTAssertTrue(frame.contains("optuna-dashboard sqlite:///studies/tiny-search.study.db"), frame)
    XCTAssertTrue(frame.contains("2 hosts") && frame.contains("watching"), frame)

    for _ in 0..<3 { app.handle(.down) }
    XCTAssertTrue(
      app.render(width: 140, height: 40).text().contains("trial 3: misses accuracy >= 0.9 · prune.sparsity.fc1"),
      "the detail line names the constraint")
  }

  func testNarrowAsciiWatchedStudy() throws {
    let (app, _) = try watchedApp(glyphs: .ascii)
    // Newest first: the retry, below the fold in trial order at this height, shows. Trial 0
    // stays selected on its new, last row; page up selects the newest.
    app.handle(Key("S"))
    app.handle(.pageUp)
    let frame = app.render(width: 80, height: 24, tick: 1).text()
    assertGolden(frame, "search-watch-80x24-ascii")
    XCTAssertTrue(frame.split(separator: "\n").allSatisfy { $0.count <= 80 })
    let lines = frame.split(separator: "\n").map(String.init)
    XCTAssertTrue(lines.first { $0.contains(" 3 complete") }?.hasPrefix("#+ x") ?? false, frame)
    XCTAssertTrue(lines.contains { $0.contains(" #v state") }, "by trial number, descending:\n\(frame)")
    XCTAssertTrue(lines.first { $0.contains(" 5 running") }?.contains("retry of #2") ?? false, frame)
    XCTAssertTrue(frame.contains("trial 5: retry of #2 · prune.sparsity.fc1"), "the newest trial is selected")
  }
}
