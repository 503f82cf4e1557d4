import Foundation
import LatheSearch
import LatheStudyStore
import XCTest

/// The SQLite scenarios on PostgreSQL (`LATHE_TEST_POSTGRES`): a fresh study name per test, so
/// tests and earlier runs never meet. Skips, saying how to get a server, without one.
final class PostgresStudyStoreTests: SQLiteStudyStoreTests {
  private var studyName = ""

  override func setUpWithError() throws {
    try super.setUpWithError()
    try PostgresTestServer.connect().close()
    studyName = "lathe-test-\(UUID().uuidString.prefix(8).lowercased())"
  }

  override func store(heartbeat: Double? = 10, space: SearchSpace? = nil) throws -> OptunaStudyStore {
    try OptunaStudyStore(
      connection: try PostgresTestServer.connect(), studyName: studyName, space: space ?? self.space,
      objectiveMetrics: ["value"], heartbeatInterval: heartbeat)
  }

  // Listed here too: test discovery on Linux finds a class's own methods.
  override func testAStudyReadsBackAsTheRunnerLeftIt() throws { try super.testAStudyReadsBackAsTheRunnerLeftIt() }
  override func testWorkersWithTheirOwnConnectionsTakeEveryTrialOnce() throws {
    try super.testWorkersWithTheirOwnConnectionsTakeEveryTrialOnce()
  }
  override func testATrialWhoseHeartbeatStoppedIsFailedAndRunAgainWithItsValues() throws {
    try super.testATrialWhoseHeartbeatStoppedIsFailedAndRunAgainWithItsValues()
  }
  override func testLiveWorkersKeepTheirTrialsThroughTheirHeartbeats() throws {
    try super.testLiveWorkersKeepTheirTrialsThroughTheirHeartbeats()
  }
  override func testDistributionsOfEveryKindReadBackAsTheirValues() throws {
    try super.testDistributionsOfEveryKindReadBackAsTheirValues()
  }
  override func testAnotherSpaceIsRefused() throws { try super.testAnotherSpaceIsRefused() }
}
