import Foundation
import XCTest

@testable import LatheTUI

/// `L`: every message in full, in the order they came, newest at the bottom; and the status
/// line saying when it cut one.
final class LogViewTests: XCTestCase {
  static let longError =
    "step prune failed: layers conv1_5, conv2_5, fc1_5, fc2_5, fc3_5 have no weights the technique can prune; "
    + "give the step a layers: list naming linear or conv2d layers, or remove it (samples/pipelines/prune.yaml line 12)"

  func makeApp(_ session: FakeWorkbenchSession, glyphs: Glyphs = .unicode) -> WorkbenchApp {
    WorkbenchApp(session: session, theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil), glyphs: glyphs)
  }

  /// The session's line, then one of the app's, then two more of the session's.
  func appWithMessages() -> (WorkbenchApp, FakeWorkbenchSession) {
    let session = FakeWorkbenchSession()
    let app = makeApp(session)
    app.post(.warning, "theme ocean: line 3: unknown colour \"teal\"; using the built-in colour")
    session.state.log.append(LogLine(.info, "input: 98.10% accuracy, 193.1 kB, b1 p50 850 µs"))
    session.state.log.append(LogLine(.error, Self.longError))
    session.state.revision += 1
    return (app, session)
  }

  func testStatusLineSaysWhenAMessageIsCut() {
    let (app, _) = appWithMessages()
    let status = app.render(width: 100, height: 30).text().split(separator: "\n").dropLast().last ?? ""
    XCTAssertTrue(status.contains("L full text"), String(status))
    XCTAssertFalse(status.contains("line 12"), "the end is cut")
    let session = FakeWorkbenchSession()
    let short = makeApp(session).render(width: 100, height: 30).text()
    XCTAssertFalse(short.contains("L full text"), "a message that fits needs no pointer")
  }

  func testLShowsEveryMessageInFullInOrder() throws {
    let (app, _) = appWithMessages()
    app.handle(Key("L"))
    let screen = try XCTUnwrap(app.top as? LogScreen)
    XCTAssertEqual(
      app.fullLog.map(\.text).map { String($0.prefix(12)) },
      ["opened lenet", "theme ocean:", "input: 98.10", "step prune f"])
    let frame = app.render(width: 80, height: 24).text()
    XCTAssertTrue(frame.contains("(samples/pipelines/prune.yaml line 12)"), "wrapped, not cut:\n\(frame)")
    assertGolden(frame, "log-80x24")
    assertGolden(app.render(width: 200, height: 60).text(), "log-200x60")
    app.handle(.escape)
    XCTAssertFalse(app.top === screen)
  }

  /// The Compare screen used L for its left snapshot, so the log its status line pointed at
  /// was out of reach there: < and > move that snapshot now.
  func testLOpensTheLogFromCompareToo() throws {
    let (app, _) = appWithMessages()
    app.handle(Key("v"))
    XCTAssertTrue(app.top is CompareScreen)
    app.handle(Key("L"))
    XCTAssertTrue(app.top is LogScreen, "L on Compare opens the log")
    app.handle(.escape)
    XCTAssertTrue(app.top is CompareScreen)
    guard case .handled = app.top.handle(Key(">"), app: app) else { return XCTFail("> moves the left snapshot") }
  }

  func testNewestAtTheBottomAndScrolling() throws {
    let session = FakeWorkbenchSession()
    session.state.log = (1...60).map { LogLine(.info, "message \($0)") }
    let app = makeApp(session)
    app.handle(Key("L"))
    // The log panel alone: the status line below it shows the newest message too.
    func shown() -> String {
      app.render(width: 80, height: 24).text().split(separator: "\n").dropLast(2).joined(separator: "\n")
    }
    XCTAssertTrue(shown().contains("message 60"))
    XCTAssertFalse(shown().contains("message 1\n") || shown().contains("message 1 "), "the oldest is scrolled off")
    app.handle(Key("g"))
    XCTAssertTrue(shown().contains("message 1 "), shown())
    XCTAssertFalse(shown().contains("message 60"))
    app.handle(Key("j"))
    XCTAssertTrue(shown().contains("message 2 ") && !shown().contains("message 1 "), "j moves down by a line")
    app.handle(Key("G"))
    XCTAssertTrue(shown().contains("message 60"))
    app.handle(Key("k"))
    XCTAssertFalse(shown().contains("message 60"), "k moves up by a line")
  }

  func testTheSessionsWindowOfLinesIsFollowedPastItsEnd() {
    let session = FakeWorkbenchSession()
    session.state.log = (1...200).map { LogLine(.info, "line \($0)") }
    let app = makeApp(session)
    app.handle(.down)
    // The session keeps its newest 200: the first line goes as one arrives.
    session.state.log = (3...202).map { LogLine(.info, "line \($0)") }
    app.handle(.down)
    XCTAssertEqual(app.fullLog.count, 202)
    XCTAssertEqual(app.fullLog.last?.text, "line 202")
    XCTAssertEqual(app.fullLog.first?.text, "line 1")
  }

  func testLevelsHaveTheirColours() throws {
    let (app, _) = appWithMessages()
    app.handle(Key("L"))
    let grid = app.render(width: 120, height: 30)
    let text = grid.text().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let errorRow = try XCTUnwrap(text.firstIndex { $0.contains("error step prune") })
    let warningRow = try XCTUnwrap(text.firstIndex { $0.contains("warn  theme ocean") })
    let column = try XCTUnwrap(text[errorRow].range(of: "error")).lowerBound.utf16Offset(in: text[errorRow])
    XCTAssertEqual(grid[column, errorRow].style.foreground, Theme.builtIn[.error])
    XCTAssertEqual(grid[column, warningRow].style.foreground, Theme.builtIn[.warning])
  }
}
