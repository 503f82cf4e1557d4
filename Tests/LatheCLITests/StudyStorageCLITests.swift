import Foundation
import XCTest

/// `lathe search` and its study storage, as a user runs it: the default `NAME.study.db`, a
/// stopped study resumed, an old journal imported, and mistakes in `--storage`.
extension CommandLineTests {
  func testAFunctionStudyWritesAndResumesItsDatabase() throws {
    let db = scratch.appendingPathComponent("b.study.db").path
    let first = try lathe("search", "--function", "branin", "--trials", "12", "--storage", db, "--json")
    XCTAssertEqual(first.status, 0, first.stderr)
    XCTAssertEqual(first.json["complete"] as? Int, 12)
    // A second run without --resume refuses to touch the study...
    let refused = try lathe("search", "--function", "branin", "--trials", "20", "--storage", db)
    XCTAssertNotEqual(refused.status, 0)
    XCTAssertTrue(refused.stderr.contains("already holds a study named branin"), refused.stderr)
    // ...and with it carries on to the new total.
    let resumed = try lathe("search", "--function", "branin", "--trials", "20", "--storage", db, "--resume", "--json")
    XCTAssertEqual(resumed.status, 0, resumed.stderr)
    XCTAssertEqual(resumed.json["trials"] as? Int, 20)
    XCTAssertEqual(resumed.json["new_trials"] as? Int, 8)
  }

  func testAJournalFromTheLastReleaseImportsOnce() throws {
    let journal = scratch.appendingPathComponent("b.jsonl").path
    let db = "sqlite:///" + scratch.appendingPathComponent("b.study.db").path
    let old = try lathe("search", "--function", "branin", "--trials", "6", "--storage", journal, "--json")
    XCTAssertEqual(old.status, 0, old.stderr)
    let imported = try lathe(
      "search", "--function", "branin", "--trials", "9", "--storage", db, "--import-journal", journal, "--json")
    XCTAssertEqual(imported.status, 0, imported.stderr)
    XCTAssertTrue(imported.stderr.contains("imported 6 trials"), imported.stderr)
    XCTAssertEqual(imported.json["trials"] as? Int, 9)
    XCTAssertEqual(imported.json["new_trials"] as? Int, 3)
    // The journal's trials came along: the database's best is the journal's best, or a new
    // trial that beats it.
    let best = try XCTUnwrap(old.json["best"] as? [String: Any])
    let after = try XCTUnwrap(imported.json["best"] as? [String: Any])
    let bestValue = try XCTUnwrap((best["metrics"] as? [String: Double])?["value"])
    let afterValue = try XCTUnwrap((after["metrics"] as? [String: Double])?["value"])
    if try XCTUnwrap(after["trial"] as? Int) < 6 {
      XCTAssertEqual(after["trial"] as? Int, best["trial"] as? Int)
      XCTAssertEqual(afterValue, bestValue)
    } else {
      XCTAssertLessThan(afterValue, bestValue, "a new trial is best only if it beats the imported ones")
    }
    // Importing again changes nothing.
    let again = try lathe(
      "search", "--function", "branin", "--trials", "9", "--storage", db, "--import-journal", journal, "--json")
    XCTAssertEqual(again.status, 0, again.stderr)
    XCTAssertTrue(again.stderr.contains("imported before"), again.stderr)
    XCTAssertEqual(again.json["trials"] as? Int, 9)
  }

  func testResumingAStudyAnEarlierReleaseKeptInAJournalSaysHowToCarryItOn() throws {
    // An earlier release's default: NAME.study.jsonl in the working folder.
    let journal = Self.packageRoot.appendingPathComponent("branin.study.jsonl")
    let database = Self.packageRoot.appendingPathComponent("branin.study.db")
    guard !FileManager.default.fileExists(atPath: journal.path), !FileManager.default.fileExists(atPath: database.path)
    else { throw XCTSkip("branin.study.jsonl or .db already in the package root") }
    defer {
      try? FileManager.default.removeItem(at: journal)
      try? FileManager.default.removeItem(at: database)
    }
    let old = try lathe("search", "--function", "branin", "--trials", "3", "--storage", journal.path)
    XCTAssertEqual(old.status, 0, old.stderr)
    let resumed = try lathe("search", "--function", "branin", "--trials", "5", "--resume")
    XCTAssertNotEqual(resumed.status, 0)
    XCTAssertTrue(resumed.stderr.contains("--import-journal branin.study.jsonl"), resumed.stderr)
    XCTAssertFalse(FileManager.default.fileExists(atPath: database.path), "a new study was started beside the journal")
  }

  func testStorageMistakesAreOneLineErrors() throws {
    let unknown = try lathe("search", "--function", "branin", "--storage", "mysql://root@localhost/x")
    XCTAssertNotEqual(unknown.status, 0)
    XCTAssertTrue(
      unknown.stderr.contains("mysql://root@localhost/x: unknown storage; expected sqlite:///PATH"), unknown.stderr)
    let notADatabase = scratch.appendingPathComponent("text.db")
    try Data("not a database at all, just text that is long enough to fill a page header".utf8).write(to: notADatabase)
    let damaged = try lathe("search", "--function", "branin", "--storage", notADatabase.path, "--worker")
    XCTAssertNotEqual(damaged.status, 0)
    XCTAssertTrue(damaged.stderr.contains(notADatabase.path), damaged.stderr)
    XCTAssertFalse(damaged.stderr.contains("Fatal error"), damaged.stderr)
    let refused = try lathe(
      "search", "--function", "branin", "--storage", "postgresql://lathe:secret@127.0.0.1:1/none", "--worker")
    XCTAssertNotEqual(refused.status, 0)
    XCTAssertTrue(refused.stderr.contains("cannot connect"), refused.stderr)
    XCTAssertFalse(refused.stderr.contains("secret"), "the password must not be printed: \(refused.stderr)")
    let badPruner = try lathe("search", "--function", "branin", "--pruner", "asha")
    XCTAssertNotEqual(badPruner.status, 0)
    XCTAssertTrue(badPruner.stderr.contains("unknown pruner asha"), badPruner.stderr)
  }
}
