import Foundation
import XCTest

@testable import LatheTUI

/// `o` on a folder of every kind: models (files and a Hugging Face folder), datasets (a CSV and
/// an IDX folder) and pipelines (YAML and JSON), with sizes; the filter, the typed path with tab
/// completion, what opening each kind asks of the session, and the errors.
final class OpenScreenTests: XCTestCase {
  /// A fixed path, so the golden frames (which show it in the title) do not change between runs.
  let folder = URL(fileURLWithPath: "/tmp/lathe-open-screen-test")

  override func setUpWithError() throws {
    let fm = FileManager.default
    try? fm.removeItem(at: folder)
    for sub in ["models", "bert-tiny", "mnist-idx"] {
      try fm.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
    }
    let files: [(String, Int)] = [
      ("bert-tiny/config.json", 120), ("bert-tiny/model.safetensors", 17_500_000),
      ("mnist-idx/train-images-idx3-ubyte", 4_000), ("mnist-idx/train-labels-idx1-ubyte", 60),
      ("lenet-5.onnx", 246_820), ("digits.csv", 51_200), ("prune.yaml", 310), ("config.json", 40),
      ("notes.md", 12), (".hidden.onnx", 10),
    ]
    for (name, size) in files {
      fm.createFile(atPath: folder.appendingPathComponent(name).path, contents: Data(count: size))
    }
    try #"{"name": "json-pipeline", "steps": []}"#.write(
      to: folder.appendingPathComponent("search.json"), atomically: true, encoding: .utf8)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  func makeApp(_ session: FakeWorkbenchSession = FakeWorkbenchSession(), glyphs: Glyphs = .unicode) -> WorkbenchApp {
    WorkbenchApp(session: session, theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil), glyphs: glyphs)
  }

  /// The app with the Open screen on top, on the test folder.
  func opened(_ session: FakeWorkbenchSession = FakeWorkbenchSession()) -> (WorkbenchApp, OpenScreen) {
    let app = makeApp(session)
    let screen = OpenScreen(directory: folder)
    app.open(screen)
    return (app, screen)
  }

  /// Moves the selection down to `name`.
  func select(_ name: String, in app: WorkbenchApp, _ screen: OpenScreen) throws {
    for _ in 0..<screen.visible.count where screen.visible[screen.selected].name != name { app.handle(.down) }
    XCTAssertEqual(screen.visible[screen.selected].name, name)
  }

  func type(_ text: String, _ app: WorkbenchApp) { for character in text { app.handle(Key(character)) } }

  func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

  func testListsFoldersThenModelsDatasetsAndPipelinesWithSizes() {
    let (app, screen) = opened()
    XCTAssertEqual(
      screen.entries.map(\.name),
      ["..", "bert-tiny", "mnist-idx", "models", "digits.csv", "lenet-5.onnx", "prune.yaml", "search.json"],
      "hidden files, notes and a config.json that is not a pipeline are left out")
    XCTAssertEqual(
      screen.entries.map { $0.kind?.rawValue ?? "-" },
      ["-", "model", "dataset", "-", "dataset", "model", "pipeline", "pipeline"])
    let frame = app.render(width: 120, height: 30).text()
    XCTAssertTrue(frame.contains("17.5 MB"), "a model folder's files are summed:\n\(frame)")
    XCTAssertTrue(frame.contains("247 kB"), frame)
  }

  func testGoldenFrames() {
    let (app, _) = opened()
    assertGolden(app.render(width: 80, height: 24).text(), "open-80x24")
    let (wide, _) = opened()
    wide.handle(Key("/"))
    type("e", wide)
    assertGolden(wide.render(width: 200, height: 60).text(), "open-filter-200x60")
  }

  func testFilterNarrowsAsYouTypeAndEscapeClearsIt() throws {
    let (app, screen) = opened()
    app.handle(Key("/"))
    XCTAssertTrue(screen.capturesText, "letters are the filter's now")
    type("ON", app)
    XCTAssertEqual(screen.visible.map(\.name), ["lenet-5.onnx", "search.json"], "case is ignored")
    XCTAssertTrue(app.render(width: 100, height: 30).text().contains("2 of 7"))
    app.handle(.enter)
    XCTAssertFalse(screen.capturesText)
    XCTAssertEqual(screen.visible.count, 2, "enter keeps the filter while browsing")
    app.handle(.escape)
    XCTAssertEqual(screen.visible.count, 8, "the first esc clears the filter")
    XCTAssertTrue(app.top === screen)
    app.handle(.escape)
    XCTAssertFalse(app.top === screen, "the second goes back")
  }

  func testTypedPathCompletesWithTabAndOpensAPipelineOnTheCurrentModel() throws {
    let session = FakeWorkbenchSession()
    let (app, _) = opened(session)
    app.handle(Key(":"))
    let frame = app.render(width: 100, height: 30).text()
    XCTAssertTrue(frame.contains("path: \(folder.path)/"), "the field starts in the folder shown:\n\(frame)")
    type("pr", app)
    app.handle(.tab)
    XCTAssertTrue(app.render(width: 100, height: 30).text().contains("\(folder.path)/prune.yaml"))
    app.handle(.enter)
    XCTAssertEqual(session.commands, ["open samples/lenet-5.safetensors mnist"])
    XCTAssertEqual(session.openedPipelines, [path("prune.yaml")])
    XCTAssertTrue(app.top is HomeScreen)
  }

  func testTabListsCandidatesWhenSeveralMatch() {
    let (app, _) = opened()
    app.handle(Key(":"))
    type("m", app)
    app.handle(.tab)
    let frame = app.render(width: 100, height: 30).text()
    XCTAssertTrue(frame.contains("mnist-idx/") && frame.contains("models/"), frame)
  }

  func testATypedFolderIsBrowsedAndATypedUnknownFileIsRefusedByName() throws {
    let (app, screen) = opened()
    app.handle(Key(":"))
    type("models", app)
    app.handle(.enter)
    XCTAssertEqual(screen.directory.path, path("models"))
    app.handle(Key(":"))
    for _ in 0..<"models/".count { app.handle(.backspace) }
    type("notes.md", app)
    app.handle(.enter)
    XCTAssertTrue(
      app.render(width: 160, height: 30).text().contains("notes.md: not a model (.onnx, .safetensors"),
      app.render(width: 160, height: 30).text())
    for _ in 0..<"notes.md".count { app.handle(.backspace) }
    type("nowhere.onnx", app)
    app.handle(.enter)
    XCTAssertTrue(app.render(width: 160, height: 30).text().contains("nowhere.onnx: no such file or folder"))
  }

  func testADatasetReopensTheCurrentModelOnIt() throws {
    let session = FakeWorkbenchSession()
    let (app, screen) = opened(session)
    try select("digits.csv", in: app, screen)
    app.handle(.enter)
    XCTAssertEqual(session.commands, ["open samples/lenet-5.safetensors \(path("digits.csv"))"])
    XCTAssertEqual(session.openedPipelines, [nil], "the session keeps its pipeline")
  }

  func testAModelFolderOpensOnEnterAndIsEnteredWithRight() throws {
    let session = FakeWorkbenchSession()
    let (app, screen) = opened(session)
    try select("bert-tiny", in: app, screen)
    app.handle(.right)
    XCTAssertEqual(screen.directory.path, path("bert-tiny"))
    app.handle(.left)
    try select("bert-tiny", in: app, screen)
    app.handle(.enter)
    XCTAssertEqual(screen.mode, .typingDataset(model: folder.appendingPathComponent("bert-tiny")))
    app.handle(Key.control("u"))
    type("mnist-i", app)
    app.handle(.tab)
    app.handle(.enter)
    XCTAssertEqual(
      session.commands, ["open \(path("bert-tiny")) \(path("mnist-idx"))"],
      "the dataset is completed against the folder shown and passed as a full path")
  }

  func testErrorsStayOnTheScreenAndNameTheFile() throws {
    let session = FakeWorkbenchSession()
    session.failOpen = true
    let (app, screen) = opened(session)
    try select("prune.yaml", in: app, screen)
    app.handle(.enter)
    XCTAssertTrue(app.top === screen)
    XCTAssertTrue(app.render(width: 120, height: 30).text().contains("prune.yaml: not a model file"))
  }

  func testADatasetNeedsAnOpenModel() throws {
    let session = FakeWorkbenchSession()
    session.state.model = nil
    let (app, screen) = opened(session)
    try select("digits.csv", in: app, screen)
    app.handle(.enter)
    XCTAssertEqual(session.commands, [])
    XCTAssertTrue(app.render(width: 140, height: 30).text().contains("digits.csv: open a model first"))
  }

  func testUnsavedWorkIsNamedOnceBeforeOpening() throws {
    let session = FakeWorkbenchSession()
    session.state.unsaved = ["1 step model"]
    let (app, screen) = opened(session)
    try select("lenet-5.onnx", in: app, screen)
    app.handle(.enter)
    app.handle(.enter)
    XCTAssertEqual(session.commands, [], "the first enter only warns")
    XCTAssertTrue(app.render(width: 140, height: 30).text().contains("unsaved 1 step model"))
    app.handle(.enter)
    XCTAssertEqual(session.commands, ["open \(path("lenet-5.onnx")) mnist"])
  }
}
