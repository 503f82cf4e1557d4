import Foundation
import XCTest

@testable import LatheTUI

/// What the workbench remembers between runs, in a temporary `$XDG_STATE_HOME`: the theme, the
/// focused panel and the recent files come back in the next run; malformed files give a
/// warning in the log and defaults, never a crash.
final class WorkbenchMemoryTests: XCTestCase {
  var stateHome: URL!
  var memory: WorkbenchMemory!
  let themes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("themes")

  override func setUpWithError() throws {
    stateHome = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-state-\(UUID())")
    memory = WorkbenchMemory(
      folder: .standard(environment: ["XDG_STATE_HOME": stateHome.path, "HOME": "/nonexistent"]))
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: stateHome) }

  /// A run of the workbench: the app as `Workbench.run` makes it.
  func start(theme: String? = nil, session: FakeWorkbenchSession = FakeWorkbenchSession()) -> WorkbenchApp {
    WorkbenchApp.restoring(
      session: session, theme: theme, themeLibrary: ThemeLibrary(directory: themes), glyphs: .unicode, memory: memory)
  }

  func write(_ text: String, to name: String) throws {
    try FileManager.default.createDirectory(at: memory.folder.url, withIntermediateDirectories: true)
    try text.write(to: memory.folder.file(name), atomically: true, encoding: .utf8)
  }

  func warnings(_ app: WorkbenchApp) -> [String] { app.fullLog.filter { $0.level == .warning }.map(\.text) }

  func testOneStateFolderForEverything() {
    XCTAssertEqual(memory.folder.url.path, stateHome.path + "/lathe")
    XCTAssertEqual(StateFolder.standard(environment: ["HOME": "/h"]).url.path, "/h/.local/state/lathe")
    XCTAssertEqual(
      StateFolder.standard(environment: ["XDG_STATE_HOME": "relative", "HOME": "/h"]).url.path,
      "/h/.local/state/lathe", "a relative XDG_STATE_HOME is ignored, as the spec says")
    XCTAssertEqual(
      TutorialProgressStore.standard(environment: ["XDG_STATE_HOME": stateHome.path]).url,
      memory.folder.file("tutorials.json"))
  }

  func testThemeAndFocusComeBackInTheNextRun() throws {
    let first = start()
    XCTAssertEqual(first.context.theme.name, "default")
    first.handle(Key("t"))
    first.handle(.tab)
    first.saveSettings()
    let saved = try String(contentsOf: memory.folder.file("settings.json"), encoding: .utf8)
    XCTAssertTrue(saved.contains("\"theme\" : \"colorblind\""), saved)

    let second = start()
    XCTAssertEqual(second.context.theme.name, "colorblind")
    XCTAssertEqual((second.top as? HomeScreen)?.focus, .pipeline)
    XCTAssertEqual(warnings(second), [])
    XCTAssertEqual(start(theme: "light").context.theme.name, "light", "--theme wins over the remembered one")
  }

  func testWritesAreAtomicAndLeaveNoTemporaries() throws {
    let app = start()
    app.saveSettings()
    app.remember("/data/digits.csv", kind: .dataset)
    let names = try FileManager.default.contentsOfDirectory(atPath: memory.folder.url.path).sorted()
    XCTAssertEqual(names, ["recent.json", "settings.json"])
  }

  func testRecentFilesAreRememberedNewestFirstAndListedByR() throws {
    let session = FakeWorkbenchSession()
    let app = start(session: session)
    app.remember("/data/digits.csv", kind: .dataset)
    app.remember("/models/a.onnx", kind: .model)
    app.remember("/data/digits.csv", kind: .dataset)
    let next = start()
    XCTAssertEqual(next.recentFiles.entries.map(\.path), ["/data/digits.csv", "/models/a.onnx"])

    let screen = OpenScreen(directory: stateHome)
    next.open(screen)
    next.handle(Key("r"))
    XCTAssertEqual(screen.visible.map(\.name), ["/data/digits.csv", "/models/a.onnx"])
    let frame = next.render(width: 100, height: 30).text()
    XCTAssertTrue(frame.contains("Open · recent files") && frame.contains("missing"), frame)
  }

  func testOpeningAFileRemembersIt() throws {
    let folder = stateHome.appendingPathComponent("files")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    FileManager.default.createFile(atPath: folder.appendingPathComponent("p.yaml").path, contents: Data("x".utf8))
    let app = start()
    app.open(OpenScreen(directory: folder))
    app.handle(.down)
    app.handle(.enter)
    XCTAssertEqual(start().recentFiles.entries, [RecentFiles.Entry(path: folder.path + "/p.yaml", kind: .pipeline)])
  }

  func testRecentFilesKeepTheNewestTwenty() {
    var recent = RecentFiles()
    for index in 0..<25 { recent.add("/f\(index)", kind: .model) }
    XCTAssertEqual(recent.entries.count, RecentFiles.limit)
    XCTAssertEqual(recent.entries.first?.path, "/f24")
  }

  // MARK: malformed files

  func testMalformedSettingsGiveAWarningAndDefaults() throws {
    let cases: [(String, String)] = [
      ("{ not json", "not JSON"),
      (#"{"theme": 3}"#, "theme: expected String"),
      (#"["default"]"#, "the top level: expected Dictionary"),
      ("", "not JSON"),
    ]
    for (text, problem) in cases {
      try write(text, to: "settings.json")
      let app = start()
      XCTAssertEqual(app.context.theme.name, "default", text)
      let warning = try XCTUnwrap(warnings(app).first, text)
      XCTAssertTrue(warning.contains(memory.folder.file("settings.json").path), warning)
      XCTAssertTrue(warning.contains(problem), "\(text): \(warning)")
      XCTAssertTrue(warning.hasSuffix("using defaults"), warning)
    }
  }

  func testMalformedRecentFilesGiveAWarningAndAnEmptyList() throws {
    for text in ["[1, 2", #"{"entries": [{"path": "/a", "kind": "spreadsheet"}]}"#, #"{"entries": "x"}"#] {
      try write(text, to: "recent.json")
      let app = start()
      XCTAssertEqual(app.recentFiles.entries, [], text)
      XCTAssertTrue(warnings(app).contains { $0.contains("recent.json is not valid") }, "\(text): \(warnings(app))")
    }
  }

  func testAHugeStateFileIsNotRead() throws {
    try write(String(repeating: " ", count: 2 << 20) + "{}", to: "settings.json")
    XCTAssertTrue(warnings(start()).contains { $0.contains("larger than") })
  }

  func testARememberedThemeThatIsGoneAndAnUnknownPanelFallBack() throws {
    try write(#"{"theme": "ocean", "focus": "sidebar"}"#, to: "settings.json")
    let app = start()
    XCTAssertEqual(app.context.theme.name, "default")
    XCTAssertEqual((app.top as? HomeScreen)?.focus, .model)
    let shown = warnings(app).joined(separator: "\n")
    XCTAssertTrue(shown.contains("the remembered theme \"ocean\" is gone"), shown)
    XCTAssertTrue(shown.contains("no panel \"sidebar\""), shown)
  }

  func testUnwritableStateFolderIsAWarningNotACrash() throws {
    // A file where the folder should be.
    try FileManager.default.createDirectory(at: stateHome, withIntermediateDirectories: true)
    FileManager.default.createFile(atPath: memory.folder.url.path, contents: Data())
    let app = start()
    app.handle(Key("t"))
    XCTAssertTrue(warnings(app).contains { $0.hasPrefix("could not remember the settings") }, "\(warnings(app))")
  }

  // MARK: themes

  func testUnknownThemeListsTheThemes() {
    let library = ThemeLibrary(directory: themes)
    XCTAssertThrowsError(try library.check("nosuch")) { error in
      XCTAssertEqual(
        "\(error)",
        "unknown theme \"nosuch\"; the themes are default, colorblind, high-contrast, light, or a path to a .theme file"
      )
    }
    XCTAssertNoThrow(try library.check("light"))
    XCTAssertNoThrow(try library.check(themes.appendingPathComponent("light.theme").path), "a theme file by path")
    XCTAssertThrowsError(try library.check("/nowhere/my.theme"))
  }

  func testAThemeFileByPathLoads() {
    let (theme, warnings) = ThemeLibrary(directory: nil).load(themes.appendingPathComponent("light.theme").path)
    XCTAssertEqual(warnings, [])
    XCTAssertEqual(theme, ThemeLibrary(directory: themes).load("light").0, "named by the file, not the path")
  }
}
