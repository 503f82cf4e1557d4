import XCTest

@testable import LatheStudyStore

/// The PostgreSQL driver's parts that need no server: reading URLs and numbering placeholders.
final class PostgresURLTests: XCTestCase {
  func testAFullURLIsPercentDecoded() throws {
    let url = try PostgresURL("postgres://us%40er:p%3As%2Fs@[::1]:6000/my%20db", environment: [:])
    XCTAssertEqual(url, PostgresURL(user: "us@er", password: "p:s/s", host: "::1", port: 6000, database: "my db"))
    XCTAssertEqual(url.location, "postgresql://us@er@[::1]:6000/my db")
  }

  func testLeftOutPartsComeFromTheDefaultsAndTheEnvironment() throws {
    let environment = ["USER": "ada", "PGPASSWORD": "from-env"]
    XCTAssertEqual(
      try PostgresURL("postgresql://db.example/studies", environment: environment),
      PostgresURL(user: "ada", password: "from-env", host: "db.example", port: 5432, database: "studies"))
    // A password in the URL wins over PGPASSWORD.
    XCTAssertEqual(try PostgresURL("postgresql://bob:pw@h/d", environment: environment).password, "pw")
    XCTAssertThrowsError(try PostgresURL("postgresql://h/d", environment: [:])) { error in
      XCTAssertTrue("\(error)".contains("no user, and USER is not set"), "\(error)")
    }
  }

  func testTheLocationAndMessagesNeverShowThePassword() throws {
    XCTAssertEqual(try PostgresURL("postgresql://u:hidden@h:1/d", environment: [:]).location, "postgresql://u@h:1/d")
    XCTAssertEqual(PostgresURL.redacted("postgresql://u:hid@den@h:x/d"), "postgresql://u:***@h:x/d")
    XCTAssertEqual(PostgresURL.redacted("postgresql://u@h/d"), "postgresql://u@h/d")
  }

  func testPlaceholdersOutsideQuotesAndCommentsAreNumbered() {
    let sql = #"SELECT ?, '?', 'it''s ?', "a?b", ? -- ? here is a comment"# + "\n" + "/* ? */ FROM t WHERE x = ?"
    let (numbered, count) = PostgresValues.numberPlaceholders(sql)
    XCTAssertEqual(count, 3)
    XCTAssertEqual(
      numbered,
      #"SELECT $1, '?', 'it''s ?', "a?b", $2 -- ? here is a comment"# + "\n" + "/* ? */ FROM t WHERE x = $3")
    // An unterminated literal swallows the rest rather than reading into it.
    XCTAssertEqual(PostgresValues.numberPlaceholders("SELECT 'a?").count, 0)
  }
}
