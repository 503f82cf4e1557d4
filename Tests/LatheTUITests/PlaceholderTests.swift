import LatheTUI
import XCTest

final class PlaceholderTUITests: XCTestCase {
  func testModuleLoads() { XCTAssertTrue(true) }
}
