import Foundation
import LatheStudyStore
import XCTest

/// PostgresStudyConnection against a real server (LATHE_TEST_POSTGRES; skipped without one),
/// and its errors for URLs that lead nowhere (always run).
final class PostgresConnectionTests: XCTestCase {
  /// Connects and makes a table named after `stem`, dropped when the test ends.
  private func withTable(_ stem: String, _ columns: String) throws -> (PostgresStudyConnection, String) {
    let db = try PostgresTestServer.connect()
    let table = PostgresTestServer.uniqueTable(stem)
    try db.execute("CREATE TABLE \(table) (\(columns))")
    addTeardownBlock {
      try? db.execute("DROP TABLE IF EXISTS \(table)")
      db.close()
    }
    return (db, table)
  }

  func testValuesRoundTripThroughATable() throws {
    let (db, table) = try withTable("values", "k integer, i bigint, d double precision, t text")
    let rows: [[SQLValue]] = [
      [.int(1), .int(0), .double(0.1), .text("it's \"quoted\"; a ? and $1 are only text")],
      [.int(2), .int(-7), .double(-2.5e-300), .text("ünïcødé, 中文, 🎉")],
      [.int(3), .int(Int64.max), .double(-0.0), .text("")],
      [.int(4), .int(Int64.min), .double(-1e308), .null],
      [.int(5), .null, .null, .text("\n\t\\")],
    ]
    for row in rows { try db.execute("INSERT INTO \(table) (k, i, d, t) VALUES (?, ?, ?, ?)", row) }
    XCTAssertEqual(try db.query("SELECT k, i, d, t FROM \(table) ORDER BY k"), rows)
    // -0.0 == 0.0, so the sign is checked on its own.
    XCTAssertEqual(try db.query("SELECT d FROM \(table) WHERE k = 3")[0][0].double?.sign, .minus)
  }

  /// The column types Optuna's schema and the store's SQL produce, each to the SQLValue it reads as.
  func testEachColumnTypeReadsAsItsValue() throws {
    let db = try PostgresTestServer.connect()
    defer { db.close() }
    let row = try db.query(
      """
      SELECT CAST(2 AS smallint), CAST(3 AS integer), CAST(1.5 AS real), CAST(2.25 AS numeric),
             CAST('v' AS varchar(10)), CAST('b' AS char(2)), true, CAST(NULL AS integer),
             EXTRACT(EPOCH FROM (CAST('2024-01-02 00:00:10' AS TIMESTAMP) - CAST('2024-01-02' AS TIMESTAMP))),
             CAST('NaN' AS numeric), pg_sleep(0)
      """)[0]
    XCTAssertEqual(
      Array(row.prefix(9)),
      [.int(2), .int(3), .double(1.5), .double(2.25), .text("v"), .text("b "), .int(1), .null, .double(10)])
    XCTAssertEqual(row[9].double?.isNaN, true)
    XCTAssertEqual(row[10], .null, "a void function's answer")
  }

  /// Timestamps go in as text through the dialect's CAST and come back through its to_char, as the store does them.
  func testTimestampsRoundTripThroughTheDialectsHelpers() throws {
    let (db, table) = try withTable("times", "at timestamp without time zone")
    let when = "2025-03-04 05:06:07.123456"
    try db.execute("INSERT INTO \(table) (at) VALUES (\(db.dialect.timestampParameter))", [.text(when)])
    try db.execute("INSERT INTO \(table) (at) VALUES (\(db.dialect.timestampParameter))", [.null])
    XCTAssertEqual(
      try db.query("SELECT \(db.dialect.timestampText("at")) FROM \(table) ORDER BY at NULLS LAST"),
      [[.text(when)], [.null]])
  }

  /// Optuna's enum columns (a type made by CREATE TYPE) read as their labels.
  func testAnEnumColumnReadsAsItsLabel() throws {
    let db = try PostgresTestServer.connect()
    let type = PostgresTestServer.uniqueTable("state")
    try db.execute("CREATE TYPE \(type) AS ENUM ('RUNNING', 'COMPLETE')")
    defer {
      try? db.execute("DROP TYPE \(type)")
      db.close()
    }
    XCTAssertEqual(try db.query("SELECT CAST('COMPLETE' AS \(type))"), [[.text("COMPLETE")]])
  }

  func testATypeWithNoSQLValueNamesTheColumnAndItsType() throws {
    let db = try PostgresTestServer.connect()
    defer { db.close() }
    XCTAssertThrowsError(try db.query("SELECT CAST('2024-01-02' AS TIMESTAMP) AS started")) { error in
      let message = "\(error)"
      XCTAssertTrue(message.contains("started") && message.contains("TIMESTAMP"), message)
    }
  }

  func testAQuestionMarkInsideQuotesIsNotAPlaceholder() throws {
    let db = try PostgresTestServer.connect()
    defer { db.close() }
    XCTAssertEqual(
      try db.query(#"SELECT '?', 'it''s ?', ? AS "why?", '?' || ?"#, [.int(7), .text("!")]),
      [[.text("?"), .text("it's ?"), .int(7), .text("?!")]])
    XCTAssertThrowsError(try db.query("SELECT ?, '?'", [])) { error in
      XCTAssertTrue("\(error)".contains("1 ? placeholders but 0 arguments"), "\(error)")
    }
  }

  func testATransactionThatThrowsLeavesNoRow() throws {
    struct Abandon: Error {}
    let (db, table) = try withTable("rollback", "k integer")
    XCTAssertThrowsError(
      try db.transaction {
        try db.execute("INSERT INTO \(table) (k) VALUES (?)", [.int(1)])
        // A transaction inside another joins it, so the outer rollback takes its row too.
        try db.transaction { try db.execute("INSERT INTO \(table) (k) VALUES (?)", [.int(2)]) }
        throw Abandon()
      }
    ) { error in XCTAssertTrue(error is Abandon, "the body's own error is rethrown, not \(error)") }
    XCTAssertEqual(try db.query("SELECT count(*) FROM \(table)"), [[.int(0)]])
    // The same connection still works, and a transaction that returns commits.
    try db.transaction { try db.execute("INSERT INTO \(table) (k) VALUES (?)", [.int(3)]) }
    XCTAssertEqual(try db.query("SELECT k FROM \(table)"), [[.int(3)]])
  }

  /// PostgreSQL answers COMMIT with ROLLBACK, and no error, after a failed statement; a body that
  /// swallowed that failure must still hear that nothing was kept.
  func testATransactionWhoseStatementFailedIsNotReportedCommitted() throws {
    let (db, table) = try withTable("aborted", "k integer")
    XCTAssertThrowsError(
      try db.transaction {
        try db.execute("INSERT INTO \(table) (k) VALUES (1)")
        _ = try? db.execute("SELECT no_such_column FROM \(table)")
      }
    ) { error in XCTAssertTrue("\(error)".contains("rolled back"), "\(error)") }
    XCTAssertEqual(try db.query("SELECT count(*) FROM \(table)"), [[.int(0)]])
  }

  func testTheServersMessageReachesTheError() throws {
    let db = try PostgresTestServer.connect()
    defer { db.close() }
    XCTAssertThrowsError(try db.query("SELECT * FROM lathe_no_such_table")) { error in
      let message = "\(error)"
      XCTAssertTrue(message.hasPrefix("\(db.location): "), message)
      XCTAssertTrue(message.contains(#"relation "lathe_no_such_table" does not exist"#), message)
      XCTAssertTrue(message.contains("42P01"), message)
    }
  }

  /// Two connections, two threads, each adding 1 fifty times through SELECT … FOR UPDATE: the row
  /// lock makes each read-modify-write wait for the other's commit, so no increment is lost.
  func testTheRowLockSerialisesTwoConnections() throws {
    let (db, table) = try withTable("counter", "id integer PRIMARY KEY, n integer")
    try db.execute("INSERT INTO \(table) VALUES (1, 0)")
    let workers = [try PostgresTestServer.connect(), try PostgresTestServer.connect()]
    defer { for worker in workers { worker.close() } }
    let errors = onThreads(2) { i in try Self.increment(workers[i], table, times: 50) }
    XCTAssertTrue(errors.isEmpty, "\(errors)")
    XCTAssertEqual(try db.query("SELECT n FROM \(table) WHERE id = 1"), [[.int(100)]])
  }

  /// One connection shared by two threads: its lock keeps one thread's statements out of the
  /// other's transaction (the row lock cannot, within one session).
  func testTwoThreadsSharingOneConnectionTakeTurns() throws {
    let (db, table) = try withTable("shared", "id integer PRIMARY KEY, n integer")
    try db.execute("INSERT INTO \(table) VALUES (1, 0)")
    let errors = onThreads(2) { _ in try Self.increment(db, table, times: 50) }
    XCTAssertTrue(errors.isEmpty, "\(errors)")
    XCTAssertEqual(try db.query("SELECT n FROM \(table) WHERE id = 1"), [[.int(100)]])
  }

  /// Read, pause (so that an unguarded pair would overlap), write the value read plus one.
  private static func increment(_ db: PostgresStudyConnection, _ table: String, times: Int) throws {
    for _ in 0..<times {
      try db.transaction {
        let rows = try db.query("SELECT n FROM \(table) WHERE id = ?\(db.dialect.lockRow)", [.int(1)])
        guard let n = rows.first?.first?.int else { throw StudyStoreError("no counter in \(table): \(rows)") }
        try db.execute("SELECT pg_sleep(0.001)")
        try db.execute("UPDATE \(table) SET n = ? WHERE id = 1", [.int(Int64(n + 1))])
      }
    }
  }

  func testCloseTwiceThenUseSaysClosed() throws {
    let db = try PostgresTestServer.connect()
    db.close()
    db.close()
    XCTAssertThrowsError(try db.query("SELECT 1")) { error in
      XCTAssertTrue("\(error)".contains("closed"), "\(error)")
    }
  }

  func testABadURLSaysWhatWasExpectedAndHidesThePassword() {
    let cases = [
      "mysql://lathe:secret@127.0.0.1/lathe_test": "the scheme is \"mysql\"",
      "postgresql://lathe:secret@127.0.0.1:port/lathe_test": "the port \"port\" is not a number",
      "postgresql://lathe:secret@127.0.0.1:5432": "no /database",
      "postgresql://lathe:secret@127.0.0.1/": "no database name",
      "postgresql://lathe:secret@/lathe_test": "no host",
      "postgresql://lathe:secret@127.0.0.1/lathe_test?sslmode=require": "only sslmode=disable",
      "127.0.0.1:5432/lathe_test": "no scheme",
    ]
    for (url, expected) in cases {
      XCTAssertThrowsError(try PostgresStudyConnection(url: url), url) { error in
        let message = "\(error)"
        XCTAssertTrue(message.contains(expected), "\(url): \(message)")
        XCTAssertTrue(message.contains("expected postgresql://user[:password]@host[:port]/database"), message)
        XCTAssertFalse(message.contains("secret"), "the password shows in: \(message)")
      }
    }
  }

  /// Port 1 (tcpmux) has no listener on any machine these tests run on.
  func testARefusedPortSaysCannotConnectAndWhy() {
    XCTAssertThrowsError(try PostgresStudyConnection(url: "postgresql://lathe:secret@127.0.0.1:1/lathe_test")) {
      error in
      let message = "\(error)"
      XCTAssertTrue(message.hasPrefix("postgresql://lathe@127.0.0.1:1/lathe_test: cannot connect ("), message)
      XCTAssertTrue(message.lowercased().contains("refused"), message)
      XCTAssertFalse(message.contains("secret"), message)
    }
  }
}
