import Foundation
import XCTest

@testable import LatheStudyStore

/// The timestamp text Optuna writes, read and written without a DateFormatter.
final class LocalTimestampTests: XCTestCase {
  func testTextReadsBackToTheSameMicrosecond() throws {
    for seconds in [1_796_671_558.642_123, 0.5, 1_700_000_000, 2_000_000_000.999_999] {
      let text = LocalTimestamp.text(seconds)
      XCTAssertEqual(text.count, 26, text)
      XCTAssertEqual(try XCTUnwrap(LocalTimestamp.seconds(text)), seconds, accuracy: 1e-6, text)
    }
  }

  func testOptunasFormsAndDateFormattersAgree() throws {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = .current
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
    for text in ["2026-12-07 19:05:26", "2024-02-29 23:59:59", "1999-01-01 00:00:00"] {
      let expected = try XCTUnwrap(formatter.date(from: text)).timeIntervalSince1970
      XCTAssertEqual(LocalTimestamp.seconds(text), expected, text)
      XCTAssertEqual(LocalTimestamp.seconds(text + ".25"), expected + 0.25, text)
      XCTAssertEqual(LocalTimestamp.seconds(text.replacingOccurrences(of: " ", with: "T")), expected, text)
    }
  }

  func testOtherTextIsUnknown() {
    for text in ["yesterday", "", "2026-13-01 00:00:00", "2026-12-07 25:00:00", "2026-12-07 19:05:26.", "2026-12-07"] {
      XCTAssertNil(LocalTimestamp.seconds(text), text)
    }
  }
}
