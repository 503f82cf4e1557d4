import CNcursesw
import XCTest

@testable import LatheTUI

/// The ncurses layer against a real terminfo entry writing to /dev/null: frames are presented
/// and read back from the ncurses screen with mvwin_wch.
final class CursesTerminalTests: XCTestCase {
  func testPresentsCellsWithColoursAndAttributes() throws {
    let terminal = try CursesTerminal.offscreen(width: 20, height: 5)
    defer { terminal.close() }
    XCTAssertEqual(terminal.size.width, 20)
    XCTAssertEqual(terminal.size.height, 5)
    XCTAssertEqual(terminal.colorMode, .palette256)
    let grid = CellGrid(width: 20, height: 5)
    grid.canvas.text(1, 1, "lathe", Style(foreground: RGB(255, 0, 0), background: nil, attributes: .bold))
    terminal.present(grid)
    let cell = try XCTUnwrap(terminal.cell(x: 1, y: 1))
    XCTAssertEqual(cell.scalar, "l")
    XCTAssertEqual(cell.attributes & lathe_a_bold(), lathe_a_bold())
    XCTAssertEqual(terminal.colors(ofPair: cell.pair).foreground, 196)
    XCTAssertEqual(terminal.colors(ofPair: cell.pair).background, -1)
    XCTAssertEqual(terminal.cell(x: 0, y: 1)?.scalar, " ")
  }

  func testOnlyChangedCellsAreWrittenAndFramesReplaceEachOther() throws {
    let terminal = try CursesTerminal.offscreen(width: 10, height: 3)
    defer { terminal.close() }
    let first = CellGrid(width: 10, height: 3)
    first.canvas.text(0, 0, "abc", .plain)
    terminal.present(first)
    let second = CellGrid(width: 10, height: 3)
    second.canvas.text(0, 0, "aXc", .plain)
    terminal.present(second)
    XCTAssertEqual((0..<3).compactMap { terminal.cell(x: $0, y: 0)?.scalar }, ["a", "X", "c"])
  }

  func testNoColorGivesAttributesOnly() throws {
    let terminal = try CursesTerminal.offscreen(width: 10, height: 3, environment: ["NO_COLOR": "1"])
    defer { terminal.close() }
    XCTAssertEqual(terminal.colorMode, .none)
    let grid = CellGrid(width: 10, height: 3)
    grid.canvas.text(0, 0, "x", Style(foreground: RGB(0, 255, 0), attributes: .reverse))
    terminal.present(grid)
    let cell = try XCTUnwrap(terminal.cell(x: 0, y: 0))
    XCTAssertEqual(cell.pair, 0)
    XCTAssertEqual(cell.attributes & lathe_a_reverse(), lathe_a_reverse())
  }

  func testWholeWorkbenchFrameRoundTrips() throws {
    let terminal = try CursesTerminal.offscreen(width: 100, height: 30)
    defer { terminal.close() }
    let app = WorkbenchApp(session: FakeWorkbenchSession(), glyphs: terminal.isUnicode ? .unicode : .ascii)
    let grid = app.render(width: 100, height: 30)
    terminal.present(grid)
    for (x, y) in [(0, 0), (5, 3), (50, 10), (99, 29), (20, 28)] {
      let expected = grid[x, y].scalar
      let scalar = terminal.cell(x: x, y: y)?.scalar
      XCTAssertEqual(scalar, terminal.isUnicode || expected.isASCII ? expected : "?", "(\(x),\(y))")
    }
  }
}
