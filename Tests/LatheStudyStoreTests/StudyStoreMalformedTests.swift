import Foundation
import LatheSearch
import LatheStudyStore
import XCTest

/// A study database damaged by hand, by another tool or by a bad disk: each damage gives one
/// line that names the database and what was expected, never a crash or a quietly wrong study.
final class StudyStoreMalformedTests: StudyStoreTestCase {
  /// A Lathe study of four trials, damaged by `sql`, then read as `lathe search --resume` does.
  func readAfter(_ sql: String) throws -> Study {
    _ = try runner(try sqlite(), trials: 4).run()
    let connection = try SQLiteStudyConnection(path: folder.appendingPathComponent("s.study.db").path)
    try connection.execute(sql)
    connection.close()
    let storage = try sqlite()
    return runner(storage, trials: 4).study(try storage.read())
  }

  func assertOneLineError(_ sql: String, mentions expected: String, line: UInt = #line) {
    XCTAssertThrowsError(try readAfter(sql), line: line) { error in
      let message = "\(error)"
      XCTAssertTrue(message.contains(expected), "\(message) does not mention \(expected)", line: line)
      XCTAssertTrue(message.contains("s.study.db"), "\(message) does not name the database", line: line)
      XCTAssertFalse(message.contains("\n"), "\(message) is not one line", line: line)
    }
    try? FileManager.default.removeItem(at: folder.appendingPathComponent("s.study.db"))
  }

  func testDamagedRowsNameTheirPlace() {
    assertOneLineError("UPDATE trials SET number = -5 WHERE number = 2", mentions: "trial: expected a number")
    assertOneLineError("UPDATE trials SET number = 1e300 WHERE number = 2", mentions: "trial")
    assertOneLineError("UPDATE trials SET state = 'BOGUS' WHERE number = 1", mentions: "trials.state of trial 1")
    assertOneLineError(
      "UPDATE trial_params SET distribution_json = 'garbage' WHERE param_id = 1", mentions: "distribution_json")
    assertOneLineError("UPDATE trial_params SET param_value = NULL WHERE param_id = 2", mentions: "param_value")
    assertOneLineError(
      "UPDATE trial_system_attributes SET value_json = '[2.0, 0.5]' WHERE \"key\" = 'lathe:unit'",
      mentions: "unit: expected values in 0...1")
    assertOneLineError(
      "INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, intermediate_value_type) "
        + "VALUES (1, -3, 1.0, 'FINITE')", mentions: "budget")
    assertOneLineError("DROP TABLE trial_params", mentions: "no such table: trial_params")
  }

  func testDamageThatLosesNothingIsReadAround() throws {
    // Timestamps another tool wrote differently, and metrics JSON Lathe cannot read: the
    // trials are still there, their metrics taken from Optuna's values.
    let study = try readAfter(
      "UPDATE trials SET datetime_start = 'yesterday'; "
        + "UPDATE trial_system_attributes SET value_json = '{\"value\": \"x\"}' WHERE \"key\" = 'lathe:metrics'")
    XCTAssertEqual(study.complete.count, 4)
    XCTAssertTrue(study.complete.allSatisfy { $0.metrics["value"]?.isFinite == true })
  }

  /// Opening `path` as study `name` must fail with a message holding `expected`.
  func assertRefused(_ path: String, study name: String = "s", mentions expected: String, line: UInt = #line) {
    XCTAssertThrowsError(
      try OptunaStudyStore(
        connection: try SQLiteStudyConnection(path: path), studyName: name, space: space,
        objectiveMetrics: ["value"]), line: line
    ) { XCTAssertTrue("\($0)".contains(expected), "\($0)", line: line) }
  }

  func testDatabasesThatAreNotStudiesAreRefused() throws {
    let text = folder.appendingPathComponent("text.db")
    try Data(String(repeating: "not a database ", count: 300).utf8).write(to: text)
    assertRefused(text.path, mentions: text.path)

    let old = try fixture("optuna-5.1-branin.db")
    let connection = try SQLiteStudyConnection(path: old)
    try connection.execute("UPDATE alembic_version SET version_num = 'v3.0.0.d'")
    connection.close()
    assertRefused(old, study: "branin", mentions: "expected Optuna's schema revision v3.2.0.a")

    let foreign = folder.appendingPathComponent("foreign.db").path
    let other = try SQLiteStudyConnection(path: foreign)
    try other.execute("CREATE TABLE studies (id INTEGER)")
    other.close()
    assertRefused(foreign, mentions: "not a database Optuna or Lathe made")
  }
}
