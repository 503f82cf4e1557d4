import XCTest

final class PlaceholderCLITests: XCTestCase {
  func testModuleLoads() { XCTAssertEqual(1 + 1, 2) }
}
