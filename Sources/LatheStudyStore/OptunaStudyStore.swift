import Foundation
import LatheSearch

/// A study kept in a database in Optuna's schema. The runner sees it as every `StudyStorage`:
/// a log of events read and appended under one lock. Underneath, each transaction locks the
/// study's row (PostgreSQL `SELECT … FOR UPDATE`, SQLite `BEGIN IMMEDIATE`), reads the study's
/// rows back as events, and writes the new events as Optuna would: trials, parameters with
/// their distributions, values, intermediate values, attributes and heartbeats.
///
/// What Optuna has no column for (a trial's point in [0, 1]^d, every metric of every rung)
/// goes into `lathe:` system attributes; the metrics also go into user attributes, where
/// optuna-dashboard shows them.
public final class OptunaStudyStore: StudyStorage, @unchecked Sendable {
  public let studyName: String
  public let heartbeatInterval: Double?
  public var location: String { "\(connection.location) (study \(studyName))" }
  public internal(set) var warnings: [String] = []

  let connection: SQLConnection
  /// The dimensions, to write each parameter's distribution.
  let space: SearchSpace
  /// Metric names for the study's values when the study names none (one Optuna made).
  let objectiveMetrics: [String]
  private let lock = NSLock()

  /// Opens the study `studyName` in `connection`'s database, creating Optuna's schema in an
  /// empty one. `heartbeatInterval`: seconds between a running trial's heartbeats.
  public init(
    connection: SQLConnection, studyName: String, space: SearchSpace, objectiveMetrics: [String],
    heartbeatInterval: Double? = 10
  ) throws {
    self.connection = connection
    self.studyName = studyName
    self.space = space
    self.objectiveMetrics = objectiveMetrics
    self.heartbeatInterval = heartbeatInterval
    try OptunaSchema.prepare(connection)
  }

  deinit { connection.close() }

  /// The names of the studies in the database.
  public func studyNames() throws -> [String] {
    lock.lock()
    defer { lock.unlock() }
    return try connection.query("SELECT study_name FROM studies ORDER BY study_id").compactMap { $0.first?.text }
  }

  public func transaction<R>(_ body: ([JournalEvent]) throws -> (append: [JournalEvent], result: R)) throws -> R {
    lock.lock()
    defer { lock.unlock() }
    // Two workers creating the same new study: one insert wins, the other starts over and
    // finds the study there.
    for attempt in 0..<3 {
      do {
        return try connection.transaction {
          var studyID = try connection.query(
            "SELECT study_id FROM studies WHERE study_name = ?" + connection.dialect.lockRow, [.text(studyName)]
          ).first?.first?.int
          let events = try studyID.map(readEvents) ?? []
          let (append, result) = try body(events)
          if !append.isEmpty {
            if studyID == nil { studyID = try createStudy() }
            var writer = OptunaRowWriter(store: self, studyID: studyID!)
            for event in append { try writer.write(event) }
          }
          return result
        }
      } catch is StudyCreatedElsewhere where attempt < 2 {
        continue
      }
    }
    throw StudyStoreError("\(location): could not create the study (other workers kept creating it)")
  }

  private struct StudyCreatedElsewhere: Error {}

  private func createStudy() throws -> Int {
    let rows = try connection.query(
      "INSERT INTO studies (study_name) VALUES (?) ON CONFLICT DO NOTHING RETURNING study_id", [.text(studyName)])
    guard let id = rows.first?.first?.int else { throw StudyCreatedElsewhere() }
    return id
  }

  public func beat(trial: Int) throws {
    lock.lock()
    defer { lock.unlock() }
    try connection.transaction {
      let now = connection.dialect.now
      try connection.execute(
        """
        INSERT INTO trial_heartbeats (trial_id, heartbeat)
          SELECT t.trial_id, \(now) FROM trials t JOIN studies s ON s.study_id = t.study_id
          WHERE s.study_name = ? AND t.number = ?
        ON CONFLICT (trial_id) DO UPDATE SET heartbeat = \(now)
        """, [.text(studyName), .int(Int64(trial))])
    }
  }
}
