import Foundation
import LatheIO

/// The workbench without a terminal: a stack of screens over a session, turning keys into
/// commands and states into frames. `Workbench.run` feeds it real keys and copies its frames to
/// ncurses; tests feed it keys and compare its frames with golden text.
public final class WorkbenchApp {
  public let session: WorkbenchSession
  /// The smallest screen the layout is designed for; below it a message is shown instead.
  public static let minimumSize = (width: 80, height: 24)

  public private(set) var context: DrawContext
  /// The session state read at the start of the current frame or key.
  public private(set) var state: WorkbenchState
  /// Set by `q`; the run loop ends.
  public private(set) var wantsQuit = false
  /// Set when the user quit with `k`: the session folder stays for them.
  public private(set) var keepsSessionFolder = false
  /// `q` found unsaved work and asked; the next `q` quits, `k` quits keeping the folder.
  private(set) var confirmingQuit = false
  /// Themes `t` cycles through, and where to load them from.
  let themeLibrary: ThemeLibrary
  let themeNames: [String]
  /// The app's own messages (theme warnings, command errors), merged with the session log.
  private(set) var messages: [LogLine] = []
  private var stack: [Screen] = []
  private var showingHelp = false
  /// Lines the help box is scrolled down by, and the most it can be (from the last frame).
  private(set) var helpScroll = 0
  var helpScrollLimit = 0
  /// Where each clickable region was drawn last frame, for mouse clicks.
  var lastFrameSize = (width: 0, height: 0)
  /// The tutorial in progress, shown in a column on the right; nil when none is.
  public internal(set) var tutorial: TutorialRun?
  /// Where `T` finds tutorials, and where progress is kept (nil: not kept, as in tests).
  let tutorials: TutorialLibrary
  let progressStore: TutorialProgressStore?
  /// The session's techniques, read once: tutorial checks fall back to their defaults.
  lazy var tutorialTechniques = session.techniques
  /// Where recent files and settings are kept between runs (nil: not kept, as in tests).
  let memory: WorkbenchMemory?
  /// Files opened or saved lately, newest first (the Open screen's `r`).
  public private(set) var recentFiles = RecentFiles()
  /// Every message of this run in the order the app saw it, the session's and its own (`L`).
  private(set) var history: [LogLine] = []
  /// The session log as last read, to find its new lines (it keeps only its newest 200).
  private var seenSessionLog: [LogLine] = []
  /// The most `history` keeps.
  static let historyLimit = 2000

  public init(
    session: WorkbenchSession, theme: Theme = .builtIn, themeLibrary: ThemeLibrary = ThemeLibrary(directory: nil),
    glyphs: Glyphs = .unicode, tutorials: TutorialLibrary = TutorialLibrary(directory: nil),
    progressStore: TutorialProgressStore? = nil, memory: WorkbenchMemory? = nil
  ) {
    self.session = session
    self.tutorials = tutorials
    self.progressStore = progressStore
    self.memory = memory
    self.themeLibrary = themeLibrary
    themeNames = themeLibrary.names()
    context = DrawContext(theme: theme, glyphs: glyphs)
    state = session.state
    stack = [HomeScreen()]
    absorbSessionLog(state.log)
    if let memory {
      let (recent, warning) = memory.recent()
      recentFiles = recent
      if let warning { post(.warning, warning) }
    }
  }

  /// The app as the user left it last time: the remembered theme (unless `theme` names one)
  /// and the panel that had focus. A malformed settings file, or a remembered theme that is
  /// gone, gives defaults and a warning in the log.
  public static func restoring(
    session: WorkbenchSession, theme requested: String?, themeLibrary: ThemeLibrary, glyphs: Glyphs,
    tutorials: TutorialLibrary = TutorialLibrary(directory: nil), progressStore: TutorialProgressStore? = nil,
    memory: WorkbenchMemory?
  ) -> WorkbenchApp {
    let (settings, warning) = memory?.settings() ?? (WorkbenchSettings(), nil)
    var name = requested ?? settings.theme ?? "default"
    var notes: [String] = warning.map { [$0] } ?? []
    if requested == nil, !themeLibrary.contains(name) {
      notes.append("the remembered theme \"\(name)\" is gone; using the default theme")
      name = "default"
    }
    let (theme, themeWarnings) = themeLibrary.load(name)
    let app = WorkbenchApp(
      session: session, theme: theme, themeLibrary: themeLibrary, glyphs: glyphs, tutorials: tutorials,
      progressStore: progressStore, memory: memory)
    app.themeChoice = name
    for note in notes { app.post(.warning, note) }
    for warning in themeWarnings { app.post(.warning, "theme \(name): \(warning)") }
    if let focus = settings.focus, let home = app.stack.first as? HomeScreen {
      // The Home screen starts on its first panel and tab is its own way to move on.
      let panels = HomeScreen.Focus.allCases.map { "\($0)" }
      if let index = panels.firstIndex(of: focus) {
        for _ in 0..<index { _ = home.handle(.tab, app: app) }
      } else {
        app.post(.warning, "settings: no panel \"\(focus)\" (there are \(panels.joined(separator: ", ")))")
      }
    }
    return app
  }

  /// The theme as chosen (a name or a file), remembered for the next run.
  private(set) var themeChoice: String?

  /// Writes the theme and the focused panel to the settings file; a failure is a warning.
  func saveSettings() {
    guard let memory else { return }
    let focus = (stack.first as? HomeScreen).map { "\($0.focus)" }
    do {
      try memory.save(WorkbenchSettings(theme: themeChoice ?? context.theme.name, focus: focus))
    } catch {
      post(.warning, "could not remember the settings: \(error)")
    }
  }

  /// Puts a file first in the recent files, kept for the next run.
  func remember(_ path: String, kind: OpenKind) {
    let absolute = PathCompletion.resolve(path, base: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    recentFiles.add(absolute.standardizedFileURL.path, kind: kind)
    guard let memory else { return }
    do {
      try memory.save(recentFiles)
    } catch {
      post(.warning, "could not remember recent files: \(error)")
    }
  }

  /// The screen on top.
  public var top: Screen { stack[stack.count - 1] }
  public var isShowingHelp: Bool { showingHelp }

  /// Adds a message to the status line (errors from commands, theme warnings).
  public func post(_ level: LogLine.Level, _ text: String) {
    absorbSessionLog(session.state.log)
    messages.append(LogLine(level, text))
    appendHistory([LogLine(level, text)])
    mineIsFresh = true
    if messages.count > 100 { messages.removeFirst(messages.count - 100) }
  }

  /// The newest message, the app's own or the session's.
  var lastMessage: LogLine? {
    // An app message shows until the session logs something newer.
    if let mine = messages.last, mineIsFresh { return mine }
    return state.log.last ?? messages.last
  }
  private var mineIsFresh = false
  private var sessionLogCount = 0

  public func setTheme(_ theme: Theme) { context.theme = theme }

  /// Loads the next theme of the library, logging its warnings.
  func cycleTheme() {
    guard !themeNames.isEmpty else { return }
    let index = themeNames.firstIndex(of: context.theme.name).map { ($0 + 1) % themeNames.count } ?? 0
    let (theme, warnings) = themeLibrary.load(themeNames[index])
    context.theme = theme
    themeChoice = themeNames[index]
    for warning in warnings { post(.warning, "theme \(theme.name): \(warning)") }
    post(.info, "theme: \(theme.name)")
    saveSettings()
  }

  /// Every message of this run, oldest first, for the log view.
  var fullLog: [LogLine] { history }

  /// Adds the session log's lines not seen before to `history`. The session keeps a window of
  /// its newest lines, so the new ones are what follows the longest overlap with the last read.
  private func absorbSessionLog(_ log: [LogLine]) {
    guard log != seenSessionLog else { return }
    var overlap = min(seenSessionLog.count, log.count)
    while overlap > 0, Array(seenSessionLog.suffix(overlap)) != Array(log.prefix(overlap)) { overlap -= 1 }
    appendHistory(Array(log.dropFirst(overlap)))
    seenSessionLog = log
  }

  private func appendHistory(_ lines: [LogLine]) {
    history += lines
    if history.count > Self.historyLimit { history.removeFirst(history.count - Self.historyLimit) }
  }

  /// Runs a throwing command, turning its error into a status-line message.
  func attempt(_ what: String, _ body: () throws -> Void) -> Bool {
    do {
      try body()
      return true
    } catch {
      post(.error, "\(what): \(error)")
      return false
    }
  }

  // MARK: keys

  /// Handles one key. Returns false once the app wants to quit.
  @discardableResult
  public func handle(_ key: Key) -> Bool {
    refreshState()
    if showingHelp {
      if case .mouse(_, _, let button) = key, button != 1 { return true }
      // A box taller than the terminal scrolls; every other key closes it.
      if let step = key.verticalStep, helpScrollLimit > 0 {
        helpScroll = max(0, min(helpScrollLimit, helpScroll + step))
        return true
      }
      showingHelp = false
      return true
    }
    if confirmingQuit {
      confirmingQuit = false
      switch key {
      case .character("q"), .control("c"):
        wantsQuit = true
        return false
      case .character("k"):
        keepsSessionFolder = true
        wantsQuit = true
        return false
      default: post(.info, "not quitting")  // and the key does what it always does
      }
    }
    if key == .control("c") {
      requestQuit()
      return !wantsQuit
    }
    if key == .resize { return true }
    if !top.capturesText, handleTutorialKey(key) {
      updateTutorial()
      return true
    }
    tutorial?.record(key: key)
    let action = top.handle(key, app: self)
    switch action {
    case .handled: break
    case .close: if stack.count > 1 { stack.removeLast() }
    case .open(let screen): stack.append(screen)
    case .unhandled: handleGlobal(key)
    }
    updateTutorial()
    return !wantsQuit
  }

  private func handleGlobal(_ key: Key) { _ = Self.globalBindings.dispatch(key, app: self) }

  /// The keys every screen has, tried when the screen on top does not use a key; the first two
  /// end every hint bar. Ctrl-C and `T` are taken before the screen sees them (`handle`).
  static var globalBindings: [KeyBinding] {
    func run(_ body: @escaping (WorkbenchApp) -> Void) -> (Key, WorkbenchApp) -> ScreenAction {
      { _, app in
        body(app)
        return .handled
      }
    }
    return [
      KeyBinding(
        [Key("?")], hint: ("?", "help"), help: ("?", "this help"),
        action: run { app in
          app.showingHelp = true
          app.helpScroll = 0
        }),
      KeyBinding(
        [Key("q"), .control("c")], hint: ("q", "quit"), help: ("q", "quit (Ctrl-C too)"),
        action: run { $0.requestQuit() }),
      KeyBinding([Key("t")], help: ("t", "next theme"), action: run { $0.cycleTheme() }),
      KeyBinding(
        [.escape], help: ("esc", "back"),
        action: run { app in if app.stack.count > 1 { app.stack.removeLast() } }),
      KeyBinding([Key("T")], help: ("T", "tutorials")),
      KeyBinding(
        [Key("w")], help: ("w / W", "save model / pipeline"),
        action: run { $0.open(SaveScreen(.model, suggested: SaveScreen.suggestion(.model, state: $0.state))) }),
      KeyBinding(
        [Key("W")],
        action: run { $0.open(SaveScreen(.pipeline, suggested: SaveScreen.suggestion(.pipeline, state: $0.state))) }),
      KeyBinding(
        [Key("x")], help: ("x", "export ONNX"),
        action: run { $0.open(SaveScreen(.onnx, suggested: SaveScreen.suggestion(.onnx, state: $0.state))) }),
      KeyBinding(
        [Key("L")], help: ("L", "log: every message in full"),
        action: run { app in if !(app.top is LogScreen) { app.open(LogScreen()) } }),
    ]
  }

  /// Quits at once when nothing would be lost; otherwise says what would be, once.
  func requestQuit() {
    guard !state.unsaved.isEmpty else {
      wantsQuit = true
      return
    }
    confirmingQuit = true
    let keep = state.sessionFolder.map { ", k quits keeping \($0)" } ?? ""
    post(
      .warning,
      "unsaved: \(state.unsaved.joined(separator: ", ")). q again quits without them\(keep); "
        + "w saves the model, W the pipeline")
  }

  /// Opens a screen on top of the current one (used by screens that open others indirectly).
  public func open(_ screen: Screen) { stack.append(screen) }

  /// Closes every screen but the home screen (a tutorial starts from there).
  func resetToHome() { stack = [stack[0]] }

  func refreshState() {
    state = session.state
    absorbSessionLog(state.log)
    if state.log.count != sessionLogCount {
      sessionLogCount = state.log.count
      mineIsFresh = false
    }
  }

  // MARK: frames

  /// Builds the whole frame for a terminal of this size.
  public func render(width: Int, height: Int, tick: Int = 0) -> CellGrid {
    refreshState()
    context.tick = tick
    lastFrameSize = (width, height)
    let grid = CellGrid(width: width, height: height, fill: Cell(" ", context.theme.text))
    let canvas = grid.canvas
    if width < WorkbenchApp.minimumSize.width || height < WorkbenchApp.minimumSize.height {
      drawTooSmall(canvas)
      return grid
    }
    drawHeader(canvas.sub(Rect(x: 0, y: 0, width: width, height: 1)))
    var screenWidth = width
    if let tutorial {
      updateTutorial()
      let panelWidth = TutorialPanel.width(forTerminal: width)
      screenWidth = width - panelWidth
      TutorialPanel.draw(
        canvas.sub(Rect(x: screenWidth, y: 1, width: panelWidth, height: height - 3)), run: tutorial, context: context)
    }
    top.draw(canvas.sub(Rect(x: 0, y: 1, width: screenWidth, height: height - 3)), app: self)
    drawStatus(canvas.sub(Rect(x: 0, y: height - 2, width: width, height: 2)))
    if showingHelp { HelpOverlay.draw(canvas, app: self) }
    return grid
  }

  private func drawTooSmall(_ canvas: Canvas) {
    let lines = [
      "Terminal too small: \(canvas.width)x\(canvas.height)",
      "Lathe needs at least \(WorkbenchApp.minimumSize.width)x\(WorkbenchApp.minimumSize.height).",
      "Enlarge the window, or press q to quit.",
    ]
    let top = max(0, canvas.height / 2 - 1)
    for (index, line) in lines.enumerated() {
      let x = max(0, (canvas.width - CharacterWidth.of(line)) / 2)
      canvas.text(x, top + index, line, context.style(index == 0 ? .warning : .mainForeground, index == 0 ? .bold : []))
    }
  }

  private func drawHeader(_ canvas: Canvas) {
    let style = context.theme.style(.statusForeground, on: .statusBackground)
    canvas.fill(nil, " ", style)
    var x = canvas.text(1, 0, "lathe", context.theme.style(.highlight, on: .statusBackground, .bold))
    x = canvas.text(x + 1, 0, "· \(top.title)", context.theme.style(.title, on: .statusBackground, .bold))
    // The right side first: the model's line gets what is left.
    var right = "theme \(context.theme.name)"
    if let search = state.search, search.isRunning {
      right = "search \(search.finishedCount)/\(search.totalTrials)  " + right
    }
    let working = state.isBusy || state.search?.isRunning == true
    if working { right = "\(context.spinner) working  " + right }
    var rightX = canvas.width - CharacterWidth.of(right) - 1
    canvas.text(rightX, 0, right, working ? context.theme.style(.running, on: .statusBackground) : style)
    // What quitting would lose is marked beside it (the quit question says what it is).
    if !state.unsaved.isEmpty {
      let mark = "\(context.glyphs.isUnicode ? "●" : "*") unsaved"
      rightX -= CharacterWidth.of(mark) + 2
      canvas.text(rightX, 0, mark, context.theme.style(.warning, on: .statusBackground, .bold))
    }
    if let model = state.model {
      // The size is the saved file's, known once the model is measured: no "0 B" before.
      var parts = [model.name, model.dataset]
      if model.totals.bytes > 0 { parts.append(ByteCount.format(model.totals.bytes)) }
      if let accuracy = model.totals.accuracy {
        let label =
          state.baseline?.scoredAgainst != nil
          ? "agree " : state.baseline?.extra[ChartsPanel.characterErrorRate] != nil ? "exact " : "acc "
        parts.append(label + Format.percent(accuracy))
      }
      canvas.text(
        x + 2, 0, parts.joined(separator: "  "), style, maxWidth: max(0, rightX - x - 4),
        ellipsis: context.glyphs.ellipsis)
    }
  }

  private func drawStatus(_ canvas: Canvas) {
    // The session folder on the right, so the user always knows where step models are.
    var messageWidth = canvas.width - 2
    if let folder = state.sessionFolder {
      var label = "session " + folder
      let width = min(CharacterWidth.of(label), canvas.width / 3)
      // A long path keeps its end, where the folder's own name is.
      if CharacterWidth.of(label) > width {
        label = "session " + String(context.glyphs.ellipsis) + String(folder.suffix(max(0, width - 9)))
      }
      canvas.text(canvas.width - width - 1, 0, label, context.style(.inactive), maxWidth: width)
      messageWidth -= width + 2
    }
    if let message = lastMessage {
      let role: ThemeColor = message.level == .error ? .error : message.level == .warning ? .warning : .inactive
      // One line of it: a longer message says where the rest is.
      let text = message.text.replacingOccurrences(of: "\n", with: " ")
      let more = "  L full text"
      let cut = CharacterWidth.of(text) > messageWidth
      let end = canvas.text(
        1, 0, text, context.style(role), maxWidth: cut ? messageWidth - CharacterWidth.of(more) : messageWidth,
        ellipsis: context.glyphs.ellipsis)
      if cut { canvas.text(end, 0, more, context.style(.inactive, .bold)) }
    }
    let bar = canvas.sub(Rect(x: 0, y: 1, width: canvas.width, height: 1))
    bar.fill(nil, " ", context.theme.style(.statusForeground, on: .statusBackground))
    // While a field takes typed text, q and ? are letters in it: no hint for them. Otherwise
    // they are pinned, so a narrow terminal drops the screen's least important hints instead.
    KeyHints.draw(
      bar, y: 0, hints: top.hints, pinned: top.capturesText ? [] : Self.globalBindings.hints, context: context)
  }
}
