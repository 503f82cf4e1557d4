import Foundation
import XCTest

@testable import LatheTUI

/// Each screen's binding list against what its `handle` really does: a key handled but not
/// listed (so the hint bar and `?` never show it) fails, and so does a listed key that nothing
/// handles. Every screen and mode is driven with every key a terminal can send.
final class KeyBindingTests: XCTestCase {
  /// Printable ASCII, the special keys, Ctrl-C and the mouse buttons.
  static let everyKey: [Key] =
    (32...126).map { Key(Character(Unicode.Scalar($0)!)) }
    + [
      .up, .down, .left, .right, .pageUp, .pageDown, .home, .end, .enter, .escape, .tab, .backTab, .backspace,
      .delete, .control("c"), .mouse(x: 0, y: 0, button: 1), .mouse(x: 0, y: 0, button: 4),
      .mouse(x: 0, y: 0, button: 5),
    ]

  /// A screen in one mode, made afresh for every key (a key may change the mode).
  struct Case {
    var name: String
    /// The title of the screen the case must reach, so a setup that misses fails.
    var title: String
    /// Typing modes take every key for their text, and a picker ignores the rest: only the
    /// listed keys are checked there.
    var consumesEveryKey = false
    var make: () -> (WorkbenchApp, Screen)
  }

  private static func makeApp(_ session: FakeWorkbenchSession = FakeWorkbenchSession()) -> WorkbenchApp {
    WorkbenchApp(session: session, theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil), glyphs: .unicode)
  }

  /// `app` with `keys` pressed, and the screen on top.
  private static func after(_ keys: [Key], _ app: WorkbenchApp = makeApp()) -> (WorkbenchApp, Screen) {
    for key in keys { app.handle(key) }
    return (app, app.top)
  }

  /// The app with the Open screen on top, on an empty folder.
  private static func openApp() -> WorkbenchApp {
    let app = makeApp()
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-keys-\(getpid())")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    app.open(OpenScreen(directory: folder))
    return app
  }

  let cases: [Case] = [
    Case(name: "workbench, model panel", title: "workbench") { after([]) },
    Case(name: "workbench, pipeline panel", title: "workbench") { after([.tab]) },
    Case(name: "workbench, charts panel", title: "workbench") { after([.tab, .tab]) },
    Case(name: "workbench, typing a layer filter", title: "workbench", consumesEveryKey: true) { after([Key("/")]) },
    Case(name: "workbench, a kept layer filter", title: "workbench") { after([Key("/"), Key("c"), .enter]) },
    Case(name: "graph", title: "graph") { after([Key("i")]) },
    Case(name: "step editor, list", title: "edit pipeline") { after([Key("e")]) },
    Case(name: "step editor, form", title: "edit pipeline") { after([Key("e"), .tab]) },
    Case(name: "step editor, choice field", title: "edit pipeline") { after([Key("e"), .tab, .down, .down]) },
    Case(name: "step editor, picking", title: "edit pipeline", consumesEveryKey: true) {
      after([Key("e"), Key("a")])
    },
    Case(name: "step editor, editing", title: "edit pipeline", consumesEveryKey: true) {
      after([Key("e"), .tab, .enter])
    },
    Case(name: "step editor, file name", title: "edit pipeline", consumesEveryKey: true) {
      after([Key("e"), Key("w")])
    },
    Case(name: "compare", title: "compare") { after([Key("v")]) },
    Case(name: "layer detail", title: "layer fc1") { after([.down, .down, .enter]) },
    Case(name: "training monitor", title: "training") { after([Key("m")]) },
    Case(name: "open, browsing", title: "open") {
      let app = makeApp()
      let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-keys-\(getpid())")
      try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      app.open(OpenScreen(directory: folder))
      return (app, app.top)
    },
    Case(name: "open, filtering", title: "open", consumesEveryKey: true) {
      after([Key("/")], openApp())
    },
    Case(name: "open, typing a path", title: "open", consumesEveryKey: true) { after([Key(":")], openApp()) },
    Case(name: "open, recent files", title: "open") { after([Key("r")], openApp()) },
    Case(name: "save", title: "save model", consumesEveryKey: true) { after([Key("w")]) },
    Case(name: "export", title: "export ONNX", consumesEveryKey: true) { after([Key("x")]) },
    Case(name: "log", title: "log") { after([Key("L")]) },
    Case(name: "search, setup", title: "search") { after([Key("s")]) },
    Case(name: "search, study", title: "search") {
      let session = FakeWorkbenchSession()
      session.state.search = FakeWorkbenchSession.study
      return after([Key("s")], makeApp(session))
    },
    Case(name: "search, writing the best pipeline", title: "search", consumesEveryKey: true) {
      let session = FakeWorkbenchSession()
      session.state.search = FakeWorkbenchSession.study
      return after([Key("s"), Key("b")], makeApp(session))
    },
    Case(name: "search, watching", title: "search") {
      let session = FakeWorkbenchSession()
      session.state.search = FakeWorkbenchSession.study
      session.state.search?.isWatching = true
      return after([Key("s")], makeApp(session))
    },
    Case(name: "tutorials", title: "tutorials") {
      let app = WorkbenchApp(
        session: FakeWorkbenchSession(), theme: .builtIn, themeLibrary: ThemeLibrary(directory: nil),
        glyphs: .unicode, tutorials: .locate())
      return after([Key("T")], app)
    },
  ]

  func testEveryHandledKeyIsListedAndEveryListedKeyIsHandled() throws {
    let appBindings = WorkbenchApp.globalBindings + WorkbenchApp.tutorialBindings
    for testCase in cases {
      let listed = testCase.make().1.bindings
      XCTAssertEqual(testCase.make().1.title, testCase.title, testCase.name)
      for key in Self.everyKey {
        let (app, screen) = testCase.make()
        let isListed = listed.contains { $0.matches(key) }
        if case .unhandled = screen.handle(key, app: app) {
          // A hint for one of the app's keys (t theme, X leave tutorial) is fine; others are not.
          XCTAssertFalse(
            isListed && !appBindings.contains { $0.matches(key) },
            "\(testCase.name): \(key) is listed but neither the screen nor the app handles it")
        } else if !testCase.consumesEveryKey {
          XCTAssertTrue(isListed, "\(testCase.name) handles \(key) but its bindings do not list it")
        }
      }
    }
  }

  /// A binding the user cannot see is a key they cannot find: each shows in the hint bar or
  /// in `?`, but for the movement keys every list shares (help: "j k / arrows").
  func testEveryScreenBindingShowsInTheHintBarOrHelp() {
    for testCase in cases {
      for binding in testCase.make().1.bindings where binding.hint == nil && binding.help == nil {
        XCTAssertEqual(binding.keys, KeyBinding.verticalKeys, "\(testCase.name): \(binding.keys) shows nowhere")
      }
    }
  }

  func testHintBarAndHelpComeFromTheLists() {
    let app = Self.makeApp()
    let bar = app.render(width: 140, height: 36).text().split(separator: "\n").last.map(String.init) ?? ""
    for hint in HomeScreen().bindings.hints + WorkbenchApp.globalBindings.hints {
      XCTAssertTrue(bar.contains("\(hint.key) \(hint.label)"), "hint bar lacks \(hint.key) \(hint.label): \(bar)")
    }
    let help = HelpOverlay.sections.flatMap(\.keys).map(\.1)
    for binding in StepEditorScreen.helpBindings + CompareScreen.keyBindings {
      if let text = binding.help?.text { XCTAssertTrue(help.contains(text), "help lacks \(text)") }
    }
    XCTAssertTrue(help.contains("run next step"))
  }

  func testMouseBindingsMatchTheButtonAnywhere() {
    let click = KeyBinding([.mouse(x: 0, y: 0, button: 1)])
    XCTAssertTrue(click.matches(.mouse(x: 40, y: 7, button: 1)))
    XCTAssertFalse(click.matches(.mouse(x: 40, y: 7, button: 4)))
    XCTAssertFalse(click.matches(.enter))
  }
}
