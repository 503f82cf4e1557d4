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
    XCTAssertTrue(trial1?.contains("◆") ?? false, "the front's trial is marked:\n\(frame)")
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

  func testHeaderShowsARunningSearchEverywhere() {
    let session = FakeWorkbenchSession()
    session.state.search = FakeWorkbenchSession.study
    let header = makeApp(session).render(width: 120, height: 30).text().split(separator: "\n")[0]
    XCTAssertTrue(header.contains("working  search 4/12"), String(header))
  }
}
