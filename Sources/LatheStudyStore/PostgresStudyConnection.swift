import Foundation
import PostgresNIO

/// A study database on a PostgreSQL server, through PostgresNIO, for callers on ordinary threads:
/// the search runner's workers are threads, so each call blocks on PostgresNIO's futures. Never
/// call it from a SwiftNIO event-loop thread (`wait()` there would deadlock; NIO traps it).
///
/// One statement per call (PostgreSQL's extended protocol takes no `;`-separated lists).
/// No TLS: the servers this is for are on loopback or a trusted network, and `sslmode=disable`
/// is the only URL parameter accepted, so a URL asking for TLS fails instead of going without.
public final class PostgresStudyConnection: SQLConnection, @unchecked Sendable {
  public let dialect = SQLDialect.postgresql
  public let location: String

  /// Guards everything below. Recursive because `transaction` holds it while its body runs
  /// statements on the same thread; another thread waits until the whole transaction ends.
  private let lock = NSRecursiveLock()
  /// nil once closed.
  private var connection: PostgresConnection?
  private var inTransaction = false
  private let logger: Logger

  /// Connects to `postgresql://user[:password]@host[:port]/database` (or `postgres://…`).
  public init(url: String) throws {
    let parsed = try PostgresURL(url)
    location = parsed.location
    // PostgresNIO logs through swift-log, whose default handler writes to stdout, where the
    // workbench draws its screen; failures reach the caller as thrown errors instead.
    var logger = Logger(label: "lathe.study-store.postgres")
    logger.logLevel = .critical
    self.logger = logger
    let configuration = PostgresConnection.Configuration(
      host: parsed.host, port: parsed.port, username: parsed.user, password: parsed.password,
      database: parsed.database, tls: .disable)
    do {
      connection = try PostgresConnection.connect(
        on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration, id: 0, logger: logger
      ).wait()
    } catch {
      throw StudyStoreError("\(location): cannot connect (\(PostgresFailure.reason(error)))")
    }
  }

  deinit { close() }

  public func close() {
    lock.lock()
    defer { lock.unlock() }
    guard let connection else { return }
    self.connection = nil
    // Closing an already broken connection fails; there is nothing left to release then.
    try? connection.close().wait()
  }

  /// BEGIN … COMMIT on this connection, ROLLBACK when `body` throws. A transaction started inside
  /// another on this connection joins it: a second BEGIN would only warn, and its COMMIT would
  /// end the outer transaction early.
  public func transaction<R>(_ body: () throws -> R) throws -> R {
    lock.lock()
    defer { lock.unlock() }
    if inTransaction { return try body() }
    try execute("BEGIN")
    inTransaction = true
    defer { inTransaction = false }
    let result: R
    do {
      result = try body()
    } catch {
      // The body's error is the one worth reporting; a failed ROLLBACK means the connection is
      // gone, and the server rolls back an unfinished transaction when it sees that.
      try? execute("ROLLBACK")
      throw error
    }
    // PostgreSQL answers COMMIT of a transaction in which a statement failed with ROLLBACK and no
    // error; a body that caught such an error must not be told its writes were kept.
    let tag = try run("COMMIT", []).metadata.command
    guard tag == "COMMIT" else {
      throw StudyStoreError(
        "\(location): the transaction was rolled back, not committed, because a statement in it failed")
    }
    return result
  }

  public func execute(_ sql: String, _ arguments: [SQLValue]) throws {
    _ = try run(sql, arguments)
  }

  public func query(_ sql: String, _ arguments: [SQLValue]) throws -> [[SQLValue]] {
    let result = try run(sql, arguments)
    return try result.rows.map { row in try row.map { try PostgresValues.value($0, place: location) } }
  }

  private func run(_ sql: String, _ arguments: [SQLValue]) throws -> PostgresQueryResult {
    lock.lock()
    defer { lock.unlock() }
    guard let connection else { throw StudyStoreError("\(location): the connection is closed (in: \(sql))") }
    let (numbered, count) = PostgresValues.numberPlaceholders(sql)
    guard count == arguments.count else {
      throw StudyStoreError(
        "\(location): the statement has \(count) ? placeholders but \(arguments.count) arguments were given (in: \(sql))"
      )
    }
    let query = PostgresQuery(unsafeSQL: numbered, binds: PostgresValues.bindings(arguments))
    do {
      return try connection.query(query, logger: logger).wait()
    } catch {
      throw StudyStoreError("\(location): \(PostgresFailure.reason(error)) (in: \(sql))")
    }
  }
}
