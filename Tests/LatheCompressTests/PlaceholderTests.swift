import LatheCompress
import XCTest

final class PlaceholderCompressTests: XCTestCase {
  func testModuleLoads() { XCTAssertTrue(true) }
}
