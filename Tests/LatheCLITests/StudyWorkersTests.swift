import Foundation
import LatheStudyStore
import XCTest

/// Three `lathe search --worker` processes share one study and one of them is killed with
/// `kill -9` while it runs a trial. The other two must find that trial lost by its heartbeat
/// (each worker claims another host, so no pid check can help), mark it FAIL and run its
/// values again once as a new trial: the study ends with all its trials complete, none lost
/// and none run twice. With retries gone the FAIL trial would have no retry and the study
/// would end a trial short; with a broken lock two workers would share a trial number.
final class StudyWorkersTests: XCTestCase {
  static let trials = 12
  var scratch: URL!

  override func setUpWithError() throws {
    scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-workers-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

  func testKilledWorkersTrialRunsAgainOnSQLite() throws {
    let path = scratch.appendingPathComponent("workers.db").path
    try checkKilledWorker(storage: "sqlite:///" + path, studyName: "workers") { try SQLiteStudyConnection(path: path) }
  }

  func testKilledWorkersTrialRunsAgainOnPostgreSQL() throws {
    let howToGetOne = "run .ci/run, or scripts/postgres-server start DIR and export its URL as LATHE_TEST_POSTGRES"
    guard let url = ProcessInfo.processInfo.environment["LATHE_TEST_POSTGRES"], !url.isEmpty else {
      throw XCTSkip("LATHE_TEST_POSTGRES is not set, so there is no PostgreSQL server to test against; \(howToGetOne)")
    }
    do {
      try PostgresStudyConnection(url: url).close()
    } catch {
      throw XCTSkip("the PostgreSQL server at LATHE_TEST_POSTGRES is unreachable (\(error)); \(howToGetOne)")
    }
    // The server outlives the test: a name of its own keeps this run's study apart.
    let name = "workers-\(UUID().uuidString.prefix(8).lowercased())"
    try checkKilledWorker(storage: url, studyName: name) { try PostgresStudyConnection(url: url) }
  }

  // MARK: - The scenario

  private func checkKilledWorker(storage: String, studyName: String, connect: () throws -> SQLConnection) throws {
    let binary = CommandLineTests.binary
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
      throw XCTSkip("no lathe binary at \(binary.path): build it first (swift build --product lathe)")
    }
    // The victim's trials sleep long, so the kill is sure to land inside one. It starts first:
    // a worker leaves once every trial is taken, so a trial lost after the others ran out of
    // work would find no one to run it again (the study would wait for a --resume).
    let victim = try startWorker(binary, storage: storage, studyName: studyName, host: "victim", trialSeconds: 30)
    var survivors: [Process] = []
    defer { for process in [victim] + survivors where process.isRunning { kill(process.processIdentifier, SIGKILL) } }
    let database = try connect()
    defer { database.close() }
    let killed = try waitForRunningTrial(host: "victim", of: studyName, in: database)
    survivors = try ["worker-a", "worker-b"].map {
      try startWorker(binary, storage: storage, studyName: studyName, host: $0, trialSeconds: 0.3)
    }
    kill(victim.processIdentifier, SIGKILL)
    victim.waitUntilExit()

    for (process, host) in zip(survivors, ["worker-a", "worker-b"]) {
      XCTAssertTrue(waitForExit(process, seconds: 60), "\(host) did not finish within 60 s")
      XCTAssertEqual(process.terminationStatus, 0, "\(host) failed: \(log(host))")
    }
    try checkStudy(try trials(of: studyName, in: database), killed: killed, in: database)
  }

  /// The study's rows after the run: every trial once, the killed one failed and run again once.
  private func checkStudy(_ rows: [TrialRow], killed: Int, in database: SQLConnection) throws {
    let numbers = rows.map(\.number)
    XCTAssertEqual(numbers, Array(0..<rows.count), "trial numbers are unique and have no gaps")
    let failed = rows.filter { $0.state == "FAIL" }
    XCTAssertEqual(failed.map(\.number), [killed], "only the killed worker's trial fails: \(rows)")
    let lost = try XCTUnwrap(rows.first { $0.number == killed })
    XCTAssertEqual(lost.host, "victim")
    XCTAssertTrue(lost.failReason?.contains("worker lost") == true, "fail reason: \(lost.failReason ?? "none")")
    let retries = rows.filter { $0.retryOf == killed }
    XCTAssertEqual(retries.count, 1, "the lost trial runs again exactly once: \(rows)")
    if let retry = retries.first {
      XCTAssertEqual(retry.state, "COMPLETE")
      XCTAssertEqual(
        try params(of: retry.id, in: database), try params(of: lost.id, in: database), "the retry has the lost values")
    }
    let retried = Set(rows.compactMap(\.retryOf))
    let counted = rows.filter { !retried.contains($0.number) }
    XCTAssertEqual(counted.count, Self.trials, "counted trials (all but the failed-and-retried): \(rows)")
    XCTAssertEqual(counted.filter { $0.state == "COMPLETE" }.count, Self.trials, "every counted trial completes")
  }

  // MARK: - Workers

  private func startWorker(_ binary: URL, storage: String, studyName: String, host: String, trialSeconds: Double)
    throws -> Process
  {
    let process = Process()
    process.executableURL = binary
    process.arguments = [
      "search", "--function", "branin", "--function-seconds", "\(trialSeconds)", "--trials", "\(Self.trials)",
      "--jobs", "1", "--heartbeat", "0.5", "--worker", "--storage", storage, "--study-name", studyName,
    ]
    // A host name of its own: only the heartbeat can tell the others this worker died.
    process.environment = ProcessInfo.processInfo.environment.merging(["LATHE_WORKER_HOST": host]) { $1 }
    let output = scratch.appendingPathComponent("\(host).log")
    FileManager.default.createFile(atPath: output.path, contents: nil)
    let handle = try FileHandle(forWritingTo: output)
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    return process
  }

  private func log(_ host: String) -> String {
    (try? String(contentsOf: scratch.appendingPathComponent("\(host).log"), encoding: .utf8)) ?? "(no log)"
  }

  private func waitForExit(_ process: Process, seconds: Double) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    return !process.isRunning
  }

  // MARK: - Reading the study's rows

  struct TrialRow: CustomStringConvertible {
    var id: Int
    var number: Int
    var state: String
    var host: String?
    var retryOf: Int?
    var failReason: String?
    var description: String { "#\(number) \(state) \(host ?? "?")" + (retryOf.map { " retry of #\($0)" } ?? "") }
  }

  /// The number of `host`'s running trial, once it has one (the tables may not exist yet).
  private func waitForRunningTrial(host: String, of studyName: String, in database: SQLConnection) throws -> Int {
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
      if let rows = try? trials(of: studyName, in: database),
        let running = rows.first(where: { $0.host == host && $0.state == "RUNNING" })
      {
        return running.number
      }
      Thread.sleep(forTimeInterval: 0.05)
    }
    XCTFail("\(host) started no trial within 20 s: \(log(host))")
    throw CocoaError(.executableLoad)
  }

  private func trials(of studyName: String, in database: SQLConnection) throws -> [TrialRow] {
    let attribute = { (key: String) in
      "(SELECT value_json FROM trial_system_attributes a WHERE a.trial_id = t.trial_id AND a.\"key\" = '\(key)')"
    }
    let rows = try database.query(
      """
      SELECT t.trial_id, t.number, CAST(t.state AS TEXT), \(attribute("lathe:host")), \(attribute("failed_trial")),
        \(attribute("fail_reason"))
      FROM trials t JOIN studies s ON s.study_id = t.study_id WHERE s.study_name = ? ORDER BY t.number
      """, [.text(studyName)])
    return rows.map { row in
      TrialRow(
        id: row[0].int ?? -1, number: row[1].int ?? -1, state: row[2].text ?? "?", host: Self.jsonString(row[3]),
        retryOf: row[4].text.flatMap { Int($0) }, failReason: Self.jsonString(row[5]))
    }
  }

  private func params(of trialID: Int, in database: SQLConnection) throws -> [String: Double] {
    let rows = try database.query(
      "SELECT param_name, param_value FROM trial_params WHERE trial_id = ?", [.int(Int64(trialID))])
    return Dictionary(uniqueKeysWithValues: rows.map { ($0[0].text ?? "?", $0[1].double ?? .nan) })
  }

  /// A JSON string attribute's text (`value_json` holds `"victim"` with its quotes).
  private static func jsonString(_ value: SQLValue) -> String? {
    guard let text = value.text else { return nil }
    return (try? JSONDecoder().decode(String.self, from: Data(text.utf8))) ?? text
  }
}
