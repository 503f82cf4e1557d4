import XCTest

@testable import LatheTUI

/// The Search screen over the fake session's canned study: the form, the trial table, the
/// charts, and the keys that reach the session.
final class SearchScreenTests: XCTestCase {
  func makeApp(_ session: FakeWorkbenchSession, glyphs: Glyphs = .unicode) -> WorkbenchApp {
    WorkbenchApp(session: session, theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil), glyphs: glyphs)
  }

  /// A session whose study already has trials, and the app with the Search screen open on it.
  func openStudy() -> (FakeWorkbenchSession, WorkbenchApp, SearchScreen) {
    let session = FakeWorkbenchSession()
    session.state.search = FakeWorkbenchSession.study
    let app = makeApp(session)
    app.handle(Key("s"))
    return (session, app, app.top as! SearchScreen)
  }

  func testFormPicksPipelineTrialsAndJobsThenStarts() throws {
    let session = FakeWorkbenchSession()
    let app = makeApp(session)
    let screen = SearchScreen(app: app, cores: 2)
    app.open(screen)
    XCTAssertTrue(screen.isSettingUp, "no study yet: the form shows")
    app.handle(Key("j"))
    app.handle(Key("j"))
    XCTAssertEqual(screen.selectedPipeline, 1, "stops at the last pipeline")
    for key in "++-+" { app.handle(Key(key)) }
    app.handle(Key(">"))
    app.handle(Key("<"))
    app.handle(Key("<"))
    app.handle(Key("<"))
    XCTAssertEqual(screen.trials, 14)
    XCTAssertEqual(screen.jobs, 1, "at least one job")
    assertGolden(app.render(width: 100, height: 24).text(), "search-form-100x24")
    app.handle(.enter)
    XCTAssertEqual(session.commands, ["search /work/my-search.yaml 14 1"])
    XCTAssertFalse(screen.isSettingUp)
    XCTAssertTrue(app.render(width: 100, height: 24).text().contains("Trials"))
  }

  func testStudyShowsTrialsBestSoFarAndFront() {
    let (_, app, _) = openStudy()
    let frame = app.render(width: 140, height: 40, tick: 2).text()
    assertGolden(frame, "search-140x40")
    XCTAssertTrue(frame.contains("tpe · minimize size_bytes · accuracy >= 0.94 · 4/12 finished · 1 running"), frame)
    let lines = frame.split(separator: "\n").map(String.init)
    let trial1 = lines.first { $0.contains(" 1 complete") }
    XCTAssertNotNil(trial1, frame)
    XCTAssertTrue(trial1?.contains("★") ?? false, "the front's only trial, the best, is marked:\n\(frame)")
    XCTAssertTrue(trial1?.contains("fc1 0.91 fc2 0.88") ?? false, trial1 ?? "")
    XCTAssertTrue(trial1?.contains("94.8%") ?? false && trial1?.contains("64.2 kB") ?? false, trial1 ?? "")
    let trial0 = lines.first { $0.contains(" 0 complete") }
    XCTAssertFalse(trial0?.contains("◆") ?? true, "trial 0 is not on the front")
    XCTAssertTrue(lines.contains { $0.contains(" 2 failed") }, frame)
    XCTAssertTrue(lines.contains { $0.contains(" 4 running") }, frame)
    XCTAssertTrue(
      frame.contains("Best so far: 64.2 kB (trial 1)"), "the best-so-far curve ends at the best size:\n\(frame)")
    XCTAssertTrue(frame.contains("Shown after 8 complete trials (3 so far)"), frame)
  }

  func testNarrowAsciiStudyFits() {
    let session = FakeWorkbenchSession()
    session.state.search = FakeWorkbenchSession.study
    let app = makeApp(session, glyphs: .ascii)
    app.handle(Key("s"))
    let frame = app.render(width: 80, height: 24).text()
    assertGolden(frame, "search-80x24-ascii")
    XCTAssertTrue(frame.split(separator: "\n").allSatisfy { $0.count <= 80 })
  }

  func testKeysSelectToggleAxisCancelAndOpenATrial() throws {
    let (session, app, screen) = openStudy()
    XCTAssertFalse(screen.isSettingUp, "a study exists: it shows")
    app.handle(.down)
    app.handle(Key("j"))
    XCTAssertEqual(screen.selectedTrial, 2)
    for _ in 0..<5 { app.handle(.down) }
    XCTAssertEqual(screen.selectedTrial, 4, "stops at the last trial")
    app.handle(Key("k"))
    app.handle(Key("k"))
    // Trial 2 failed: enter explains instead of loading; its error shows under the table.
    app.handle(.enter)
    XCTAssertTrue(session.commands.isEmpty)
    var frame = app.render(width: 120, height: 36).text()
    XCTAssertTrue(frame.contains("trial 2 is failed; pick a complete one"), frame)
    XCTAssertTrue(frame.contains("trial 2: lathe run: exit status 1: out of memory"), frame)

    XCTAssertTrue(frame.contains("Accuracy vs size"))
    app.handle(Key("x"))
    XCTAssertEqual(screen.axis, .latency)
    frame = app.render(width: 120, height: 36).text()
    XCTAssertTrue(frame.contains("Accuracy vs latency"), frame)
    XCTAssertTrue(frame.contains("52µs") && frame.contains("95µs"), "the x axis spans the trials' latencies:\n\(frame)")

    app.handle(Key("n"))
    XCTAssertFalse(screen.isSettingUp, "no new study while one runs")
    app.handle(Key("c"))
    XCTAssertEqual(session.commands, ["cancel search"])

    app.handle(Key("k"))
    app.handle(.enter)
    XCTAssertEqual(session.commands.last, "load trial 1")
    XCTAssertTrue(app.top is HomeScreen, "back to the workbench, which shows the loaded trial")
  }

  func testNewStudyAfterTheLastEnded() {
    let (session, app, screen) = openStudy()
    session.state.search?.isRunning = false
    app.handle(Key("n"))
    XCTAssertTrue(screen.isSettingUp)
    app.handle(.escape)
    XCTAssertFalse(screen.isSettingUp, "esc goes back to the study")
    app.handle(.escape)
    XCTAssertTrue(app.top is HomeScreen)
  }

  /// The best trial is ★ and the rest of the front ◆, in the table and the chart alike, with a
  /// legend; trial 3 misses the accuracy floor: no check mark, a cross, and no place on the front.
  func testMarksMeanTheSameInTheTableAndTheChart() throws {
    let (session, app, _) = openStudy()
    session.state.search?.front = [1, 0]
    let frame = app.render(width: 200, height: 60, tick: 2).text()
    let lines = frame.split(separator: "\n").map(String.init)
    let best = try XCTUnwrap(lines.first { $0.contains(" 1 complete") }, frame)
    let front = try XCTUnwrap(lines.first { $0.contains(" 0 complete") }, frame)
    let miss = try XCTUnwrap(lines.first { $0.contains(" 3 complete") }, frame)
    XCTAssertTrue(best.contains("★"), best)
    XCTAssertTrue(front.contains("◆") && !front.contains("★"), front)
    XCTAssertTrue(miss.contains("✗") && !miss.contains("◆"), "a miss is never on the front: \(miss)")
    XCTAssertTrue(frame.contains("★ best · ◆ Pareto front · ✗ misses a constraint"), frame)
    XCTAssertTrue(frame.contains("Accuracy vs size (★ best ◆ front)"), frame)
    let chart = lines.filter { $0.contains("★") || $0.contains("◆") }.count
    XCTAssertGreaterThanOrEqual(chart, 4, "both marks in the table and in the chart:\n\(frame)")
    assertGolden(frame, "search-marks-200x60")
    assertGolden(app.render(width: 80, height: 24, tick: 2).text(), "search-marks-80x24")
  }

  /// Labels of points that fall together are left out rather than run into each other, and
  /// never cover a mark; the front's labels come first.
  func testScatterLabelsDoNotCollide() {
    let points = [
      ScatterChart.Point(size: 100, accuracy: 0.9, label: "12"),
      ScatterChart.Point(size: 104, accuracy: 0.9, label: "3"),
      ScatterChart.Point(size: 108, accuracy: 0.9, label: "45"),
      ScatterChart.Point(size: 200, accuracy: 0.5, label: "7"),
    ]
    let grid = CellGrid(width: 30, height: 8)
    ScatterChart(points: points, front: [2, 3]).draw(
      grid.canvas, context: DrawContext(theme: .builtIn, glyphs: .unicode))
    let text = grid.text()
    XCTAssertTrue(text.contains("45"), "the front's label is drawn:\n\(text)")
    for joined in ["123", "312", "453", "345", "1245", "4512"] {
      XCTAssertFalse(text.contains(joined), "labels ran together (\(joined)):\n\(text)")
    }
    XCTAssertEqual(text.filter { $0 == "★" || $0 == "◆" || $0 == "•" }.count, 4, "every mark is visible:\n\(text)")
  }

  /// `b` writes the best trial's pipeline to a typed path (offered: NAME-trial-N.yaml).
  func testBWritesTheBestTrialsPipeline() throws {
    let (session, app, screen) = openStudy()
    app.handle(Key("b"))
    XCTAssertTrue(screen.capturesText)
    let frame = app.render(width: 100, height: 30).text()
    XCTAssertTrue(frame.contains("Write trial 1's pipeline") && frame.contains("search-pruning-trial-1.yaml"), frame)
    app.handle(Key("q"))
    XCTAssertFalse(app.wantsQuit, "q is text in the field")
    app.handle(.backspace)
    app.handle(.enter)
    XCTAssertEqual(session.commands.last, "save trial 1 search-pruning-trial-1.yaml")
    XCTAssertFalse(screen.capturesText)
    session.state.search?.front = []
    app.handle(Key("b"))
    XCTAssertFalse(screen.capturesText, "no best trial: nothing to write")
    XCTAssertTrue(app.render(width: 100, height: 30).text().contains("nothing is best"))
  }

  func testHeaderShowsARunningSearchEverywhere() {
    let session = FakeWorkbenchSession()
    session.state.search = FakeWorkbenchSession.study
    let header = makeApp(session).render(width: 120, height: 30).text().split(separator: "\n")[0]
    XCTAssertTrue(header.contains("working  search 4/12"), String(header))
  }
}
