import XCTest

@testable import LatheTUI

final class LayoutTests: XCTestCase {
  func testSplitGivesFixedSizesFirstThenWeights() {
    XCTAssertEqual(Layout.split(10, [.fixed(3), .weight(1), .weight(1)]), [3, 4, 3])
    XCTAssertEqual(Layout.split(5, [.fixed(8), .weight(1)]), [5, 0])
    XCTAssertEqual(Layout.split(7, [.weight(1), .weight(2)]), [3, 4])
    XCTAssertEqual(Layout.split(0, [.weight(1)]), [0])
  }

  /// Each panel drawn as a labelled box, compared as a whole picture (lazygit's layout tests).
  static func drawing(_ box: LayoutBox, width: Int, height: Int) -> String {
    let grid = CellGrid(width: width, height: height)
    let context = DrawContext(theme: .builtIn, glyphs: .ascii)
    for (name, rect) in Layout.arrange(box, in: Rect(x: 0, y: 0, width: width, height: height)) {
      Panel.draw(grid.canvas.sub(rect), title: name, focused: false, context: context)
    }
    return grid.text()
  }

  func testHomeLayoutWide() {
    assertGolden(Self.drawing(HomeScreen.layout(width: 120), width: 60, height: 12), "layout-home-wide")
  }

  func testHomeLayoutNarrowStacks() {
    assertGolden(Self.drawing(HomeScreen.layout(width: 80), width: 40, height: 16), "layout-home-narrow")
  }

  func testRectIntersectionAndContains() {
    let a = Rect(x: 0, y: 0, width: 10, height: 5)
    XCTAssertEqual(a.intersection(Rect(x: 8, y: 3, width: 5, height: 5)), Rect(x: 8, y: 3, width: 2, height: 2))
    XCTAssertTrue(a.contains(x: 9, y: 4))
    XCTAssertFalse(a.contains(x: 10, y: 4))
  }
}
