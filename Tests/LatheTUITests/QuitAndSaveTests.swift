import XCTest

@testable import LatheTUI

/// `q` with unsaved work asks once; `w` and `W` save to a typed path; the status line names
/// the session folder.
final class QuitAndSaveTests: XCTestCase {
  func makeApp(_ session: FakeWorkbenchSession) -> WorkbenchApp {
    WorkbenchApp(session: session, theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil), glyphs: .unicode)
  }

  func unsavedSession() -> FakeWorkbenchSession {
    let session = FakeWorkbenchSession()
    session.state.unsaved = ["1 step model", "the edited pipeline"]
    session.state.sessionFolder = "/tmp/lathe-workbench-42-abc"
    return session
  }

  func testNothingUnsavedQuitsAtOnce() {
    let app = makeApp(FakeWorkbenchSession())
    XCTAssertFalse(app.handle(.control("c")))
    XCTAssertTrue(app.wantsQuit)
  }

  func testUnsavedWorkAsksOnceThenQuits() {
    let app = makeApp(unsavedSession())
    XCTAssertTrue(app.handle(Key("q")), "the first q only asks")
    let frame = app.render(width: 140, height: 36).text()
    XCTAssertTrue(frame.contains("unsaved: 1 step model, the edited pipeline"), frame)
    XCTAssertFalse(app.handle(Key("q")))
    XCTAssertTrue(app.wantsQuit)
    XCTAssertFalse(app.keepsSessionFolder)
  }

  func testAnyOtherKeyCancelsTheQuitAndCtrlCAsksToo() {
    let app = makeApp(unsavedSession())
    XCTAssertTrue(app.handle(.control("c")))
    XCTAssertTrue(app.handle(Key("j")), "j cancels the question and moves as always")
    XCTAssertFalse(app.wantsQuit)
    XCTAssertTrue(app.handle(Key("q")), "asked again after the cancel")
    XCTAssertFalse(app.handle(Key("k")))
    XCTAssertTrue(app.keepsSessionFolder, "k quits and keeps the session folder")
  }

  func testStatusLineNamesTheSessionFolder() {
    let frame = makeApp(unsavedSession()).render(width: 120, height: 30).text()
    XCTAssertTrue(frame.contains("session /tmp/lathe-workbench-42-abc"), frame)
  }

  func testWSavesTheModelToTheTypedPath() throws {
    let session = FakeWorkbenchSession()
    let app = makeApp(session)
    app.handle(Key("w"))
    let screen = try XCTUnwrap(app.top as? SaveScreen)
    XCTAssertEqual(screen.target, .model)
    XCTAssertTrue(app.render(width: 120, height: 30).text().contains("lenet-5-prune-50.safetensors"))
    for _ in 0..<"safetensors".count { app.handle(.backspace) }
    for character in "onnx" { app.handle(Key(character)) }
    XCTAssertTrue(app.handle(Key("q")), "q is text in the path field")
    app.handle(.backspace)
    app.handle(.enter)
    let here = FileManager.default.currentDirectoryPath
    XCTAssertEqual(session.commands, ["save model \(here)/lenet-5-prune-50.onnx"], "relative to the working folder")
    XCTAssertFalse(app.top is SaveScreen, "the prompt closes once saved")
  }

  func testCapitalWSavesThePipelineAndEscapeCancels() throws {
    let session = FakeWorkbenchSession()
    let app = makeApp(session)
    app.handle(Key("W"))
    XCTAssertEqual((app.top as? SaveScreen)?.target, .pipeline)
    app.handle(.escape)
    XCTAssertFalse(app.top is SaveScreen)
    app.handle(Key("W"))
    app.handle(.enter)
    XCTAssertEqual(session.commands, ["save \(FileManager.default.currentDirectoryPath)/pipeline.yaml"])
  }

  func testHeaderMarksUnsavedWorkInBothGlyphSets() {
    let unicode = makeApp(unsavedSession()).render(width: 120, height: 30).text()
    XCTAssertTrue(unicode.split(separator: "\n")[0].contains("● unsaved"), unicode)
    let ascii = WorkbenchApp(
      session: unsavedSession(), theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil), glyphs: .ascii
    ).render(width: 80, height: 24).text()
    XCTAssertTrue(ascii.split(separator: "\n")[0].contains("* unsaved"), ascii)
    let saved = makeApp(FakeWorkbenchSession()).render(width: 120, height: 30).text()
    XCTAssertFalse(saved.contains("unsaved"), "nothing to mark when all is saved")
  }

  func testXExportsONNXAndRefusesOtherNames() throws {
    let session = FakeWorkbenchSession()
    let app = makeApp(session)
    app.handle(Key("x"))
    let screen = try XCTUnwrap(app.top as? SaveScreen)
    XCTAssertEqual(screen.target, .onnx)
    XCTAssertEqual(screen.path.text, "lenet-5-prune-50.onnx", "<model>-<last done step>.onnx")
    XCTAssertTrue(app.render(width: 120, height: 30).text().contains("· export ONNX"))
    for _ in 0..<"onnx".count { app.handle(.backspace) }
    for character in "bin" { app.handle(Key(character)) }
    app.handle(.enter)
    XCTAssertEqual(session.commands, [])
    XCTAssertTrue(app.render(width: 120, height: 30).text().contains("an ONNX file's name ends in .onnx"))
    for _ in 0..<"bin".count { app.handle(.backspace) }
    for character in "onnx" { app.handle(Key(character)) }
    app.handle(.enter)
    XCTAssertEqual(session.commands, ["save model \(FileManager.default.currentDirectoryPath)/lenet-5-prune-50.onnx"])
  }

  func testTheSavePathCompletesWithTabAndAFolderIsRefused() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-save-\(UUID())")
    try FileManager.default.createDirectory(
      at: folder.appendingPathComponent("exports"), withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let session = FakeWorkbenchSession()
    let app = makeApp(session)
    app.open(SaveScreen(.model, suggested: "", base: folder))
    for character in "ex" { app.handle(Key(character)) }
    app.handle(.tab)
    XCTAssertEqual((app.top as? SaveScreen)?.path.text, "exports/")
    app.handle(.enter)
    XCTAssertEqual(session.commands, [])
    XCTAssertTrue(app.render(width: 120, height: 30).text().contains("exports/ is a folder"))
    for character in "m.safetensors" { app.handle(Key(character)) }
    app.handle(.enter)
    XCTAssertEqual(session.commands, ["save model \(folder.path)/exports/m.safetensors"])
  }
}
