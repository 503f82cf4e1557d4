import LatheIO
import XCTest

@testable import LatheTUI

final class WidgetTests: XCTestCase {
  let unicode = DrawContext(theme: .builtIn, glyphs: .unicode)

  func testBarUsesEighths() {
    let grid = CellGrid(width: 4, height: 1)
    Bar.draw(grid.canvas, x: 0, y: 0, width: 4, fraction: 0.5 + 2.0 / 32, fill: .plain, empty: .plain, glyphs: .unicode)
    XCTAssertEqual(grid.text(), "██▎")
  }

  /// `? help` and `q quit` always show; the screen's hints fill what is left in their order,
  /// the last ones dropped whole.
  func testKeyHintsKeepThePinnedOnesAndDropTheLeastImportant() {
    let screen: [KeyHints.Hint] = [("n", "next"), ("a", "all"), ("e", "edit"), ("v", "compare")]
    let pinned: [KeyHints.Hint] = [("?", "help"), ("q", "quit")]
    func bar(_ width: Int) -> String {
      let grid = CellGrid(width: width, height: 1)
      KeyHints.draw(grid.canvas, y: 0, hints: screen, pinned: pinned, context: unicode)
      return grid.text()
    }
    XCTAssertEqual(bar(60), " n next  a all  e edit  v compare  ? help  q quit")
    XCTAssertEqual(bar(49), " n next  a all  e edit  v compare  ? help  q quit", "exactly fits")
    XCTAssertEqual(bar(48), " n next  a all  e edit  ? help  q quit")
    XCTAssertEqual(bar(20), " ? help  q quit")
    XCTAssertEqual(bar(10), " ? help", "narrower than the pinned hints: as many as fit")
  }

  /// The workbench at its smallest size still says how to get help and quit (it lost both).
  func testTheHintBarAt80ColumnsEndsWithHelpAndQuit() {
    let app = WorkbenchApp(
      session: FakeWorkbenchSession(), theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil), glyphs: .unicode)
    let bar = String(app.render(width: 80, height: 24).text().split(separator: "\n").last ?? "")
    XCTAssertTrue(bar.hasSuffix("? help  q quit"), bar)
    XCTAssertTrue(bar.hasPrefix(" tab panel"), bar)
  }

  func testTextClipsAndEllipsizes() {
    let grid = CellGrid(width: 10, height: 1)
    grid.canvas.text(0, 0, "hello wonderful world", .plain, maxWidth: 8, ellipsis: "…")
    XCTAssertEqual(grid.text(), "hello w…")
    let wide = CellGrid(width: 5, height: 1)
    wide.canvas.text(0, 0, "日本語", .plain)
    XCTAssertEqual(wide.text(), "日本", "a wide character that does not fit is left out")
  }

  func testCanvasClipsToItsRectangle() {
    let grid = CellGrid(width: 6, height: 3)
    let inner = grid.canvas.sub(Rect(x: 1, y: 1, width: 3, height: 1))
    inner.text(0, 0, "abcdef", .plain)
    inner.put(0, 1, "x", .plain)
    XCTAssertEqual(grid.text(), "\n abc\n")
  }

  func testBrailleDots() {
    var dots = DotGrid(columns: 2, rows: 1, glyphs: .unicode)
    dots.line(0, 3, 3, 0, color: nil)
    let grid = CellGrid(width: 2, height: 1)
    dots.draw(grid.canvas, x: 0, y: 0, background: nil)
    // Left cell: dots (0,3) and (1,2); right cell: (2,1) and (3,0).
    XCTAssertEqual(grid.text(), "⡠⠊")
  }

  func testParetoFront() {
    let points = [
      ScatterChart.Point(size: 100, accuracy: 0.98, label: "0"),
      ScatterChart.Point(size: 50, accuracy: 0.97, label: "1"),
      ScatterChart.Point(size: 60, accuracy: 0.96, label: "2"),
      ScatterChart.Point(size: 25, accuracy: 0.90, label: "3"),
    ]
    XCTAssertEqual(ScatterChart.paretoFront(points), [3, 1, 0])
    // A point that misses a constraint never joins the front, nor pushes others off it.
    var missing = points
    missing[1].missesConstraint = true
    XCTAssertEqual(ScatterChart.paretoFront(missing), [3, 2, 0])
  }

  func testTableGolden() {
    let grid = CellGrid(width: 40, height: 6)
    let table = Table(
      columns: [
        TableColumn("name", .weight(1)), TableColumn("n", .fixed(5), .right), TableColumn("sparsity", .fixed(12)),
      ],
      rows: [[.text("conv1"), .text("156"), .bar(0.25, " 25%")], [.text("fc1"), .text("48k"), .bar(0.5, " 50%")]],
      footer: [.text("total"), .text("48k"), .bar(0.5, " 50%")], selected: 1)
    table.draw(grid.canvas, context: unicode, focused: true)
    assertGolden(grid.text(), "table")
    XCTAssertEqual(grid[0, 2].style.background, Theme.builtIn[.selectedBackground])
  }

  func testScrollKeepsSelectionVisible() {
    XCTAssertEqual(Table.scrollOffset(selected: 0, count: 100, visible: 10), 0)
    XCTAssertEqual(Table.scrollOffset(selected: 50, count: 100, visible: 10), 45)
    XCTAssertEqual(Table.scrollOffset(selected: 99, count: 100, visible: 10), 90)
  }

  func testLineChartGolden() {
    let grid = CellGrid(width: 30, height: 8)
    LineChart(
      series: [.init(points: [(0, 0.98), (1, 0.975), (2, 0.96), (3, 0.97)], color: .accuracy)],
      yLabel: { Format.percent($0) }
    ).draw(grid.canvas, context: unicode)
    assertGolden(grid.text(), "line-chart")
  }

  func testHistogramAndDensityMapAscii() {
    let ascii = DrawContext(theme: .builtIn, glyphs: .ascii)
    let grid = CellGrid(width: 24, height: 6)
    Histogram(bins: [0, 1, 4, 8, 4, 1, 0, 2], color: .histogramAfter, range: -1...1).draw(grid.canvas, context: ascii)
    assertGolden(grid.text(), "histogram-ascii")
    let map = CellGrid(width: 4, height: 2)
    DensityMap(values: [0, 0.3, 0.6, 1, 1, 1, 0, 0], rows: 2, columns: 4).draw(map.canvas, context: ascii)
    XCTAssertEqual(map.text(), " :o#\n##")
  }

  func testFormats() {
    XCTAssertEqual(ByteCount.format(1_234_567), "1.23 MB")
    XCTAssertEqual(ByteCount.format(999), "999 B")
    XCTAssertEqual(Format.count(48_120), "48.1k")
    XCTAssertEqual(Format.percent(0.9734), "97.3%")
    XCTAssertEqual(Format.micros(850), "850µs")
    XCTAssertEqual(Format.micros(12_345), "12.3ms")
    XCTAssertEqual(Format.duration(185), "3m05s")
    XCTAssertEqual(Format.shape([64, 3, 3, 3]), "64x3x3x3")
  }
}
