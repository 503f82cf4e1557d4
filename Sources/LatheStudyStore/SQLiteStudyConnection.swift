import Foundation
import GRDB

/// A study database file through GRDB. Each transaction starts `IMMEDIATE`, taking SQLite's
/// write lock at once, so processes sharing the file (several `lathe search --worker` on one
/// machine) run their transactions one at a time; a busy file is waited on, not failed.
public final class SQLiteStudyConnection: SQLConnection {
  public let dialect = SQLDialect.sqlite
  public let location: String
  private let queue: DatabaseQueue

  /// Opens (or creates) the file at `path`.
  public init(path: String) throws {
    location = path
    var configuration = Configuration()
    // Other processes hold the lock only for one short transaction; wait rather than fail.
    configuration.busyMode = .timeout(60)
    do {
      queue = try DatabaseQueue(path: path, configuration: configuration)
    } catch {
      throw StudyStoreError("\(path): cannot open as a SQLite database (\(Self.reason(error)))")
    }
  }

  public func transaction<R>(_ body: () throws -> R) throws -> R {
    var result: R?
    do {
      try queue.writeWithoutTransaction { db in
        try db.inTransaction(.immediate) {
          current = db
          defer { current = nil }
          result = try body()
          return .commit
        }
      }
    } catch let error as StudyStoreError {
      throw error
    } catch let error as DatabaseError {
      throw StudyStoreError("\(location): \(Self.reason(error))")
    }
    return result!
  }

  public func execute(_ sql: String, _ arguments: [SQLValue]) throws {
    try withDatabase { db in try db.execute(sql: sql, arguments: Self.arguments(arguments)) }
  }

  public func query(_ sql: String, _ arguments: [SQLValue]) throws -> [[SQLValue]] {
    try withDatabase { db in
      try Row.fetchAll(db, sql: sql, arguments: Self.arguments(arguments)).map { row in
        (0..<row.count).map { Self.value(row[$0] as DatabaseValue) }
      }
    }
  }

  public func close() { try? queue.close() }

  // MARK: - Inside and outside transactions

  /// The database of the running transaction, so the statements inside `transaction` use it
  /// (one thread at a time uses a connection: the store locks around each transaction).
  private var current: Database?

  private func withDatabase<R>(_ body: (Database) throws -> R) throws -> R {
    do {
      if let db = current { return try body(db) }
      return try queue.inDatabase(body)
    } catch let error as DatabaseError {
      throw StudyStoreError("\(location): \(Self.reason(error))")
    }
  }

  private static func arguments(_ values: [SQLValue]) -> StatementArguments {
    StatementArguments(
      values.map { value -> (any DatabaseValueConvertible)? in
        switch value {
        case .null: return nil
        case .int(let v): return v
        case .double(let v): return v
        case .text(let v): return v
        }
      })
  }

  private static func value(_ value: DatabaseValue) -> SQLValue {
    switch value.storage {
    case .null: return .null
    case .int64(let v): return .int(v)
    case .double(let v): return .double(v)
    case .string(let v): return .text(v)
    case .blob(let data): return .text(String(decoding: data, as: UTF8.self))
    }
  }

  private static func reason(_ error: Error) -> String {
    if let error = error as? DatabaseError { return error.message ?? "\(error.resultCode)" }
    return "\(error)"
  }
}
