import Foundation

/// Where a study lives: the JSONL journal, or a database in Optuna's schema (`LatheStudyStore`).
/// The runner sees every backend as a log of `JournalEvent`s it can read and append to under
/// one lock, so the choices it makes (which trial next, whether to stop one early) are the same
/// whatever keeps the study.
public protocol StudyStorage: AnyObject, Sendable {
  /// Where the study is, for messages: a path or a URL without its password.
  var location: String { get }
  /// Problems met while reading (lines a crash cut short), for the caller to print.
  var warnings: [String] { get }
  /// Runs `body` with the study's events so far, holding the storage's exclusive lock (other
  /// threads and processes wait), and records the events it returns before letting go.
  func transaction<R>(_ body: ([JournalEvent]) throws -> (append: [JournalEvent], result: R)) throws -> R
  /// Seconds between heartbeats of a running trial, or nil when the storage keeps none (the
  /// journal: a dead worker there is found by its pid, or `staleAfter`).
  var heartbeatInterval: Double? { get }
  /// Records that the worker running `trial` is alive.
  func beat(trial: Int) throws
}

extension StudyStorage {
  /// Every event now.
  public func read() throws -> [JournalEvent] { try transaction { ([], $0) } }

  /// Appends events.
  public func append(_ new: [JournalEvent]) throws { try transaction { _ in (new, ()) } }
}
