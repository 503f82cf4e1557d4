import Foundation
import LatheSearch
import LatheTestSupport
import XCTest

/// Damaged study journals: a last line cut short by a stopped process is skipped with a
/// warning; any other bad line stops the study with FILE:LINE, never silently and never a trap.
final class StudyJournalMalformedTests: XCTestCase {
  var url: URL!

  override func setUp() {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-journal-\(UUID().uuidString).jsonl")
  }

  override func tearDown() { try? FileManager.default.removeItem(at: url) }

  let study = #"{"event":"study","time":1,"space":"x"}"#
  let start0 = #"{"event":"start","trial":0,"time":2,"unit":[0.5]}"#

  func write(_ lines: [String], newline: Bool = true) throws {
    try (lines.joined(separator: "\n") + (newline ? "\n" : "")).write(to: url, atomically: true, encoding: .utf8)
  }

  func readError() -> String {
    XCTAssertThrowsError(try StudyJournal(url: url).read()) { _ in }
    do {
      _ = try StudyJournal(url: url).read()
    } catch {
      return "\(error)"
    }
    return ""
  }

  func testTruncatedLastLineIsSkippedWithAWarning() throws {
    try write([study, start0, #"{"event":"finish","trial":0,"ti"#], newline: false)
    let journal = StudyJournal(url: url)
    XCTAssertEqual(try journal.read().count, 2)
    XCTAssertEqual(journal.warnings, ["\(url.path):3: skipping the last line, cut short by a stopped writer"])
    // Read again: the same line is not warned about twice.
    _ = try journal.read()
    XCTAssertEqual(journal.warnings.count, 1)
  }

  func testGarbageLineInTheMiddleIsAnErrorNamingTheLine() throws {
    try write([study, "hello, world", start0])
    XCTAssertEqual(
      readError(), "\(url.path):2: expected one JSON journal event per line, got \"hello, world\"")
  }

  func testTheErrorRepeatsOnTheNextRead() throws {
    try write([study, "[1, 2]", start0])
    let journal = StudyJournal(url: url)
    XCTAssertThrowsError(try journal.read())
    XCTAssertThrowsError(try journal.read())
  }

  func testNegativeOrHugeTrialNumbersAreErrors() throws {
    // A trial of -1 indexed an array in Study.observations; 10^15 allocated that many observations.
    try write([study, #"{"event":"start","trial":-1,"time":2,"unit":[0.5]}"#])
    XCTAssertEqual(readError(), "\(url.path):2: trial: expected a number in 0...1000000, got -1")
    try write([study, #"{"event":"start","trial":1000000000000000,"time":2,"unit":[0.5]}"#])
    XCTAssertTrue(readError().hasPrefix("\(url.path):2: trial: expected a number"))
    try write([study, #"{"event":"start","trial":1e300,"time":2,"unit":[0.5]}"#])
    XCTAssertTrue(readError().hasPrefix("\(url.path):2: expected one JSON journal event"))
  }

  func testNaNUnitsAndWrongTypesAreErrors() throws {
    try write([study, #"{"event":"start","trial":0,"time":2,"unit":["nan"]}"#])
    XCTAssertEqual(readError(), "\(url.path):2: unit: expected values in 0...1, got nan")
    try write([study, #"{"event":"start","trial":"zero","time":2}"#])
    XCTAssertTrue(readError().hasPrefix("\(url.path):2: expected one JSON journal event"))
    try write([study, #"{"event":"report","trial":0,"time":2,"budget":-3}"#])
    XCTAssertTrue(readError().hasPrefix("\(url.path):2: budget"))
  }

  func testAPointOfTheWrongShapeDoesNotReachTheSamplers() {
    var start = JournalEvent(event: .start, trial: 0, time: 1)
    start.unit = [0.1, 0.2, 0.3]
    let observations = Study(events: [start], objectives: [Objective(.maximize, "accuracy")]).observations(
      dimensions: 1)
    XCTAssertEqual(observations.map(\.unit), [[0.5]])
  }

  /// Seeded damage to a real journal: every read either succeeds or fails with FILE:LINE, and
  /// what it returns can be turned into a study and sampler input without a trap.
  func testMutatedJournalsNeverTrap() throws {
    var events: [JournalEvent] = [JournalEvent(event: .study, time: 1)]
    for n in 0..<6 {
      var start = JournalEvent(event: .start, trial: n, time: Double(n))
      start.unit = [0.25, Double(n) / 6]
      start.params = ["ft.lr": .float(0.01), "ft.epochs": .int(n)]
      var finish = JournalEvent(event: .finish, trial: n, time: Double(n) + 0.5)
      finish.state = .complete
      finish.metrics = ["accuracy": 0.9, "size_bytes": 1000]
      events += [start, finish]
    }
    try StudyJournal(url: url).append(events)
    let original = try Data(contentsOf: url)
    var mutator = TextMutator(seed: 2024)
    var counts = (read: 0, failed: 0)
    for _ in 0..<800 {
      try mutator.mutate(original).write(to: url)
      do {
        let read = try StudyJournal(url: url).read()
        counts.read += 1
        let study = Study(events: read, objectives: [Objective(.maximize, "accuracy")])
        _ = study.observations(dimensions: 2)
        _ = study.bestSoFar
        _ = study.paretoFront
      } catch {
        counts.failed += 1
        XCTAssertTrue("\(error)".hasPrefix(url.path + ":"), "\(error)")
        XCTAssertFalse("\(error)".contains("\n"), "\(error)")
      }
    }
    print("journal mutants: 800, read \(counts.read), failed \(counts.failed)")
  }
}
