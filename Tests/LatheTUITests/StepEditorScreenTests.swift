import LatheCompress
import LatheIO
import XCTest

@testable import LatheTUI

/// The step editor's rough edges a newcomer hit: choices typed as free text, an Esc after `s`
/// that stopped on the step list, `w` offering `pipeline.yaml` for any file, "q quit" hinted
/// while typing, "1 steps".
final class StepEditorScreenTests: XCTestCase {
  func makeApp(_ session: FakeWorkbenchSession = FakeWorkbenchSession()) -> WorkbenchApp {
    WorkbenchApp(session: session, theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil), glyphs: .unicode)
  }

  func hintBar(_ app: WorkbenchApp, width: Int = 120) -> String {
    String(app.render(width: width, height: 30).text().split(separator: "\n").last ?? "")
  }

  /// On the scope field (a choice) right, left and space step through its options, wrapping
  /// around; the form shows them all; on a bool they toggle it.
  func testChoiceFieldsCycleThroughTheirOptions() throws {
    let app = makeApp()
    app.handle(Key("e"))
    let editor = try XCTUnwrap(app.top as? StepEditorScreen)
    app.handle(.tab)
    app.handle(.down)
    app.handle(.down)  // scope: layer | global
    XCTAssertTrue(hintBar(app).contains("←/→ choose"), hintBar(app))
    let frame = app.render(width: 120, height: 30).text()
    XCTAssertTrue(frame.contains("◂ layer  global ▸"), frame)
    app.handle(.right)
    XCTAssertEqual(editor.specs[0]["scope"], .string("global"))
    app.handle(.right)
    XCTAssertEqual(editor.specs[0]["scope"], .string("layer"), "wraps around")
    app.handle(.left)
    XCTAssertEqual(editor.specs[0]["scope"], .string("global"))
    app.handle(Key(" "))
    XCTAssertEqual(editor.specs[0]["scope"], .string("layer"))
    XCTAssertTrue(editor.dirty)
    XCTAssertEqual(editor.mode, .form, "left on a choice cycles, it does not leave the form")
    assertGolden(app.render(width: 80, height: 24).text(), "editor-choice-80x24")
    assertGolden(app.render(width: 200, height: 60).text(), "editor-choice-200x60")
    app.handle(.down)  // finetune: a bool
    app.handle(.right)
    XCTAssertEqual(editor.specs[0]["finetune"], .bool(false))
    app.handle(.up)
    app.handle(.up)  // sparsity: a number, where left goes back to the list
    app.handle(.left)
    XCTAssertEqual(editor.mode, .list)
  }

  /// After `s` nothing is left to apply, so Esc goes back to the workbench, where `n` runs the
  /// steps; with unapplied changes it still stops at the list, which asks.
  func testEscAfterApplyingReturnsToTheWorkbench() {
    let session = FakeWorkbenchSession()
    let app = makeApp(session)
    app.handle(Key("e"))
    app.handle(.tab)
    app.handle(.down)
    app.handle(.down)
    app.handle(.right)
    app.handle(.escape)
    XCTAssertTrue(app.top is StepEditorScreen, "an unapplied change stops at the list")
    app.handle(.tab)
    app.handle(Key("s"))
    XCTAssertEqual(session.commands, ["replace prune-50,int8"])
    app.handle(.escape)
    XCTAssertTrue(app.top is HomeScreen)
    app.handle(Key("n"))
    XCTAssertEqual(session.commands.last, "next")
  }

  /// `w` offers the file the pipeline came from, extension and all; `pipeline.yaml` only for a
  /// pipeline that has none. The app's `W` offers the same.
  func testWriteOffersTheOpenedFile() throws {
    let session = FakeWorkbenchSession()
    session.state.pipelineFile = "/work/experiments/prune.yml"
    let app = makeApp(session)
    app.handle(Key("e"))
    app.handle(Key("w"))
    app.handle(.enter)
    XCTAssertEqual(session.commands.last, "save /work/experiments/prune.yml")
    XCTAssertEqual(StepEditorScreen.suggestedFile(WorkbenchState()), "pipeline.yaml")
    XCTAssertEqual(SaveScreen.suggestion(.pipeline, state: session.state), "/work/experiments/prune.yml")
  }

  /// While a field takes text, q and ? are letters in it: the hint bar does not offer them.
  func testTheHintBarHidesTheKeysTypingSwallows() {
    let app = makeApp()
    app.handle(Key("e"))
    XCTAssertTrue(hintBar(app).contains("q quit"))
    app.handle(.tab)
    app.handle(.enter)
    let bar = hintBar(app)
    XCTAssertTrue(bar.contains("enter accept"), bar)
    XCTAssertFalse(bar.contains("q quit") || bar.contains("? help"), bar)
  }

  func testOneStepIsOneStep() throws {
    let session = FakeWorkbenchSession()
    let app = makeApp(session)
    app.handle(Key("e"))
    app.handle(Key("d"))
    app.handle(Key("s"))
    let status = app.render(width: 120, height: 30).text()
    XCTAssertTrue(status.contains("pipeline applied: 1 step;"), status)
    XCTAssertEqual(Wording.count(1, "step"), "1 step")
    XCTAssertEqual(Wording.count(0, "step"), "0 steps")
    XCTAssertEqual(Wording.count(2, "entry", plural: "entries"), "2 entries")
  }
}
