import Foundation

/// A value bound to, or read from, a SQL statement. Optuna's schema needs no more than these:
/// enum columns are read through `CAST(column AS TEXT)` and written as literals, timestamps
/// through the dialect's helpers.
public enum SQLValue: Sendable, Equatable, CustomStringConvertible {
  case null
  case int(Int64)
  case double(Double)
  case text(String)

  public var int: Int? {
    switch self {
    case .int(let v): return Int(v)
    case .double(let v): return v.isFinite && abs(v) < 9e18 ? Int(v) : nil
    case .text(let s): return Int(s)
    case .null: return nil
    }
  }

  public var double: Double? {
    switch self {
    case .int(let v): return Double(v)
    case .double(let v): return v
    case .text(let s): return Double(s)
    case .null: return nil
    }
  }

  public var text: String? {
    switch self {
    case .text(let s): return s
    case .int(let v): return String(v)
    case .double(let v): return String(v)
    case .null: return nil
    }
  }

  public var description: String { text ?? "NULL" }
}

/// One connection to a study database: SQLite through GRDB, or PostgreSQL through PostgresNIO.
/// Statements are written once, with `?` placeholders; a driver rewrites them for its server.
/// Only one thread uses a connection at a time (the store holds a lock around each transaction).
public protocol SQLConnection: AnyObject {
  var dialect: SQLDialect { get }
  /// Where the database is, for messages: a path or a URL without its password.
  var location: String { get }
  /// Runs `body` in one transaction that writers take one at a time (SQLite: `BEGIN IMMEDIATE`;
  /// PostgreSQL: `BEGIN`, with the store locking its study row `FOR UPDATE`). Commits when
  /// `body` returns, rolls back when it throws, and rethrows.
  func transaction<R>(_ body: () throws -> R) throws -> R
  /// Runs a statement that returns no rows.
  func execute(_ sql: String, _ arguments: [SQLValue]) throws
  /// Runs a query and returns its rows, each as its columns in order.
  func query(_ sql: String, _ arguments: [SQLValue]) throws -> [[SQLValue]]
  /// Ends the connection (also done on deinit).
  func close()
}

extension SQLConnection {
  public func execute(_ sql: String) throws { try execute(sql, []) }
  public func query(_ sql: String) throws -> [[SQLValue]] { try query(sql, []) }
}

/// The two servers' differences that Optuna's schema runs into.
public enum SQLDialect: Sendable {
  case sqlite
  case postgresql

  /// Appended to the statement that reads the study row, so concurrent writers queue on it.
  public var lockRow: String { self == .postgresql ? " FOR UPDATE" : "" }

  /// A placeholder for a timestamp given as text `YYYY-MM-DD HH:MM:SS.ffffff` (local time, as Optuna writes).
  public var timestampParameter: String { self == .postgresql ? "CAST(? AS TIMESTAMP)" : "?" }

  /// A timestamp column read back as that text.
  public func timestampText(_ column: String) -> String {
    self == .postgresql ? "to_char(\(column), 'YYYY-MM-DD HH24:MI:SS.US')" : column
  }

  /// The database's clock, in the type Optuna's heartbeat column holds: the database's own
  /// clock, as Optuna uses it, so that hosts whose clocks disagree still agree on staleness.
  /// SQLite's `CURRENT_TIMESTAMP` has whole seconds only; this is the same text with milliseconds.
  public var now: String {
    self == .postgresql ? "LOCALTIMESTAMP" : "strftime('%Y-%m-%d %H:%M:%f', 'now')"
  }

  /// Seconds between `column` and the database's clock.
  public func secondsSince(_ column: String) -> String {
    switch self {
    case .postgresql: return "EXTRACT(EPOCH FROM (LOCALTIMESTAMP - \(column)))"
    case .sqlite: return "((julianday('now') - julianday(\(column))) * 86400.0)"
    }
  }
}

/// A database error, with where and what.
public struct StudyStoreError: Error, CustomStringConvertible, Equatable {
  public var description: String
  public init(_ description: String) { self.description = description }
}
