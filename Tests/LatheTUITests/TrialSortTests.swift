import XCTest

@testable import LatheTUI

/// The trial table's order: each column up and down, `s` and `S` on the Search screen, and
/// the header saying which column sorts which way.
final class TrialSortTests: XCTestCase {
  let trials = FakeWorkbenchSession.study.trials

  func order(_ column: TrialSort.Column, descending: Bool = false) -> [Int] {
    TrialSort(column: column, descending: descending).sorted(trials).map(\.number)
  }

  /// The fake study: 0 (96.2%, 180 kB, 95 µs, 41 s, node-a), 1 (94.8%, 64.2 kB, 61 µs, 39 s,
  /// node-b), 2 failed (3 s, node-a), 3 (93.1%, 41.8 kB, 52 µs, 40 s, node-b), 4 running (node-a).
  func testEachColumnBothWays() {
    XCTAssertEqual(order(.number), [0, 1, 2, 3, 4])
    XCTAssertEqual(order(.number, descending: true), [4, 3, 2, 1, 0])
    XCTAssertEqual(order(.state), [4, 0, 1, 3, 2], "running, complete, failed")
    XCTAssertEqual(order(.state, descending: true), [2, 0, 1, 3, 4])
    XCTAssertEqual(order(.metric("accuracy")), [3, 1, 0, 2, 4], "trials without a value last")
    XCTAssertEqual(order(.metric("accuracy"), descending: true), [0, 1, 3, 2, 4], "still last")
    XCTAssertEqual(order(.metric("size_bytes")), [3, 1, 0, 2, 4])
    XCTAssertEqual(order(.metric("size_bytes"), descending: true), [0, 1, 3, 2, 4])
    XCTAssertEqual(order(.metric("latency_b1")), [3, 1, 0, 2, 4])
    XCTAssertEqual(order(.metric("latency_b1"), descending: true), [0, 1, 3, 2, 4])
    XCTAssertEqual(order(.seconds), [2, 1, 3, 0, 4])
    XCTAssertEqual(order(.seconds, descending: true), [0, 3, 1, 2, 4])
    XCTAssertEqual(order(.host), [0, 2, 4, 1, 3], "ties keep trial order")
    XCTAssertEqual(order(.host, descending: true), [1, 3, 0, 2, 4])
  }

  func testAnObjectiveOutsideTheTableGetsAColumn() {
    let objectives = ["minimize latency_b256", "maximize accuracy"]
    XCTAssertEqual(
      TrialSort.columns(objectives: objectives),
      [
        .number, .state, .metric("accuracy"), .metric("size_bytes"), .metric("latency_b1"), .metric("latency_b256"),
        .seconds, .host,
      ])
    let timed = [
      SearchTrial(number: 0, state: .complete, settings: [], metrics: ["latency_b256": 900]),
      SearchTrial(number: 1, state: .complete, settings: [], metrics: ["latency_b256": 700]),
      SearchTrial(number: 2, state: .complete, settings: [], metrics: ["latency_b256": .nan]),
    ]
    XCTAssertEqual(TrialSort(column: .metric("latency_b256")).sorted(timed).map(\.number), [1, 0, 2])
    var sort = TrialSort()
    for _ in 0..<TrialSort.columns(objectives: objectives).count { sort = sort.next(objectives: objectives) }
    XCTAssertEqual(sort, TrialSort(), "s comes back round to the trial number")
  }

  func testKeysSortTheTableAndTheHeaderSaysHow() throws {
    let session = FakeWorkbenchSession()
    session.state.search = FakeWorkbenchSession.study
    let app = WorkbenchApp(
      session: session, theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil), glyphs: .ascii)
    app.handle(Key("s"))
    let screen = try XCTUnwrap(app.top as? SearchScreen)
    func rows() -> [Int] {
      // The table's rows, top down: "#x     2 failed ..." gives 2.
      app.render(width: 100, height: 30).text().split(separator: "\n").compactMap { line in
        let words = line.split(separator: " ")
        guard line.hasPrefix("#"),
          let state = words.firstIndex(where: { ["complete", "failed", "running"].contains($0) }),
          state > 0
        else { return nil }
        return Int(words[state - 1])
      }
    }
    func header() -> String {
      app.render(width: 100, height: 30).text().split(separator: "\n").first { $0.contains("settings") }.map(
        String.init)
        ?? ""
    }
    XCTAssertEqual(rows(), [0, 1, 2, 3, 4])
    XCTAssertTrue(header().contains(" #^ state "), header())
    app.handle(.down)  // trial 1 selected
    app.handle(Key("s"))
    XCTAssertEqual(screen.sort, TrialSort(column: .state))
    XCTAssertEqual(rows(), [4, 0, 1, 3, 2])
    XCTAssertTrue(header().contains("state^"), header())
    XCTAssertEqual(screen.selectedTrial, 2, "trial 1 stays selected, on its new row")
    app.handle(Key("S"))
    XCTAssertEqual(rows(), [2, 0, 1, 3, 4])
    XCTAssertTrue(header().contains("statev"), header())
    app.handle(Key("s"))
    XCTAssertEqual(screen.sort, TrialSort(column: .metric("accuracy")), "s goes on ascending")
    XCTAssertEqual(rows(), [3, 1, 0, 2, 4])
    XCTAssertTrue(header().contains("acc^"), header())
    for _ in 0..<4 { app.handle(Key("s")) }
    XCTAssertEqual(screen.sort, TrialSort(column: .host))
    XCTAssertTrue(header().contains("host^"), header())
    XCTAssertEqual(rows(), [0, 2, 4, 1, 3])
    // enter opens the selected trial by its number, wherever its row is.
    app.handle(.enter)
    XCTAssertEqual(session.commands.last, "load trial 1")
  }

  func testTrialsThatMissAConstraintAreMarked() {
    let session = FakeWorkbenchSession()
    session.state.search = FakeWorkbenchSession.study
    let app = WorkbenchApp(session: session, theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil))
    app.handle(Key("s"))
    let grid = app.render(width: 140, height: 40)
    let lines = grid.text().split(separator: "\n").map(String.init)
    let row = lines.firstIndex { $0.contains(" 3 complete") }!
    XCTAssertTrue(lines[row].hasPrefix("┃✓ ✗"), lines[row])
    XCTAssertFalse(lines.contains { $0.contains(" 0 complete") && $0.contains("✗") }, "trial 0 meets it")
    XCTAssertTrue(lines.contains { $0.contains("✗ misses a constraint") }, "the table's note explains the mark")
    // The accuracy it misses in the warning colour; its other numbers dimmed.
    let theme = app.context.theme
    let accuracy = lines[row].range(of: "93.1%").map {
      lines[row].distance(from: lines[row].startIndex, to: $0.lowerBound)
    }!
    XCTAssertEqual(grid[accuracy, row].style.foreground, theme[.warning])
    let size = lines[row].range(of: "41.8 kB").map {
      lines[row].distance(from: lines[row].startIndex, to: $0.lowerBound)
    }!
    XCTAssertEqual(grid[size, row].style.foreground, theme[.inactive])
    app.handle(Key("j"))
    app.handle(Key("j"))
    app.handle(Key("j"))
    XCTAssertTrue(app.render(width: 140, height: 40).text().contains("trial 3: misses accuracy >= 0.94 · "))
  }

  func testHelpListsTheSortKeys() {
    let help = HelpOverlay.sections.first { $0.title == "Search" }?.keys ?? []
    XCTAssertTrue(help.contains { $0.0 == "s / S" && $0.1 == "sort by the next column / reverse" }, "\(help)")
  }
}
