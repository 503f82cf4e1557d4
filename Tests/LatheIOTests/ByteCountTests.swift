import LatheIO
import XCTest

/// The one byte formatter: decimal units, three significant figures.
final class ByteCountTests: XCTestCase {
  func testDecimalUnitsWithThreeFigures() {
    XCTAssertEqual(ByteCount.format(0), "0 B")
    XCTAssertEqual(ByteCount.format(999), "999 B")
    XCTAssertEqual(ByteCount.format(1000), "1.00 kB")
    XCTAssertEqual(ByteCount.format(24_684), "24.7 kB")
    XCTAssertEqual(ByteCount.format(193_104), "193 kB")
    XCTAssertEqual(ByteCount.format(1_234_567), "1.23 MB")
    XCTAssertEqual(ByteCount.format(3_000_000_000), "3.00 GB")
  }

  /// The header and the status line once disagreed on this file (1.07 MB against 1.02 "MB").
  func testAMegabyteIsAMillionBytes() {
    XCTAssertEqual(ByteCount.format(1_070_000), "1.07 MB")
    XCTAssertEqual(ByteCount.format(1 << 20), "1.05 MB")
  }

  func testNegativeCountsKeepTheirSign() {
    XCTAssertEqual(ByteCount.format(-1500), "-1.50 kB")
    XCTAssertEqual(ByteCount.format(-12), "-12 B")
  }
}
