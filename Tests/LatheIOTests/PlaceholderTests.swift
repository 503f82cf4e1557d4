import LatheIO
import XCTest

final class PlaceholderIOTests: XCTestCase {
  func testModuleLoads() { XCTAssertEqual(1 + 1, 2) }
}
