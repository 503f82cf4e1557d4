import Foundation
import LatheSearch
import XCTest

/// The journal under concurrent writers, and after a crash cut a line short.
final class SearchJournalTests: XCTestCase {
  func temporaryFile() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("lathe-journal-\(UUID().uuidString).jsonl")
  }

  func testConcurrentWritersLoseNothing() throws {
    let url = temporaryFile()
    defer { try? FileManager.default.removeItem(at: url) }
    let writers = 8
    let each = 60
    // Separate journal objects open the file separately, so only flock keeps them apart (as between processes).
    DispatchQueue.concurrentPerform(iterations: writers) { w in
      let journal = StudyJournal(url: url)
      for i in 0..<each {
        var e = JournalEvent(event: .finish, trial: w * each + i)
        e.metrics = ["accuracy": Double(i) / 100, "size_bytes": Double(w)]
        e.error = String(repeating: "x", count: (i * 37) % 3000)
        do { try journal.append([e]) } catch { XCTFail("\(error)") }
      }
    }
    let journal = StudyJournal(url: url)
    let events = try journal.read()
    XCTAssertEqual(journal.skippedLines, 0)
    XCTAssertEqual(events.count, writers * each)
    XCTAssertEqual(Set(events.compactMap(\.trial)), Set(0..<(writers * each)))
  }

  func testTransactionsHandOutEachNumberOnce() throws {
    let url = temporaryFile()
    defer { try? FileManager.default.removeItem(at: url) }
    DispatchQueue.concurrentPerform(iterations: 6) { _ in
      let journal = StudyJournal(url: url)
      for _ in 0..<40 {
        do {
          try journal.transaction { events in ([JournalEvent(event: .start, trial: events.count)], ()) }
        } catch { XCTFail("\(error)") }
      }
    }
    let numbers = try StudyJournal(url: url).read().compactMap(\.trial)
    XCTAssertEqual(numbers, Array(0..<240))
  }

  func testALineCutShortByACrashIsSkippedAndClosed() throws {
    let url = temporaryFile()
    defer { try? FileManager.default.removeItem(at: url) }
    let journal = StudyJournal(url: url)
    try journal.append([JournalEvent(event: .start, trial: 0)])
    let handle = try FileHandle(forWritingTo: url)
    handle.seekToEndOfFile()
    handle.write(Data("{\"event\":\"finish\",\"tri".utf8))
    handle.closeFile()
    try StudyJournal(url: url).append([JournalEvent(event: .start, trial: 1)])
    let reader = StudyJournal(url: url)
    XCTAssertEqual(try reader.read().compactMap(\.trial), [0, 1])
    XCTAssertEqual(reader.skippedLines, 1)
  }

  func testValuesRoundTripAsJSON() throws {
    var e = JournalEvent(event: .start, trial: 3)
    e.params = ["a": .int(3), "b": .float(0.25), "c": .string("adam"), "d": .bool(true)]
    e.unit = [0.1, 0.7]
    let back = try JSONDecoder().decode(JournalEvent.self, from: JSONEncoder().encode(e))
    XCTAssertEqual(back, e)
  }
}
