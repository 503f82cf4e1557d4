import CNcursesw
import Foundation

/// The entry point: `lathe` with no arguments calls `Workbench.run(session:theme:)`.
public enum Workbench {
  /// How long the loop waits for a key before checking the session again: new states show
  /// within this, and a key press is drawn right after it arrives.
  static let pollMilliseconds = 30

  /// Owns the terminal until the user quits. The terminal is restored on every way out: `q`,
  /// Ctrl-C, SIGTERM (signal sources, then the normal path), a thrown error (defer), and a
  /// crash (C signal handlers that call `endwin`). On each of them but a crash the session is
  /// shut down first, so no engine work outlives the screen.
  ///
  /// - Parameters:
  ///   - session: the engine behind the screens.
  ///   - theme: a theme name from `themes/` or a `.theme` file (default: the one used last,
  ///     else "default"); unknown names fall back to the built-in theme with a warning on the
  ///     status line (the CLI refuses them first, listing the themes).
  ///   - tutorial: a tutorial to start in, whose files `session` was opened from; `restart`
  ///     starts it from the top rather than where the learner left it.
  ///   - openingSearch: start on the Search screen (`lathe workbench --study`).
  public static func run(
    session: WorkbenchSession, theme: String? = nil, tutorial: Tutorial? = nil, restart: Bool = false,
    openingSearch: Bool = false
  ) throws {
    let kept = try runInTerminal(
      session: session, theme: theme, tutorial: tutorial, restart: restart, openingSearch: openingSearch)
    if let kept { FileHandle.standardError.write(Data("lathe: kept the session folder \(kept)\n".utf8)) }
  }

  /// The workbench proper; returns the session folder when the user chose to keep it.
  static func runInTerminal(
    session: WorkbenchSession, theme: String?, tutorial: Tutorial?, restart: Bool, openingSearch: Bool = false
  ) throws -> String? {
    // `shutdown` may run twice: here when the terminal cannot be opened, and before the
    // terminal is restored otherwise; the second call finds nothing left to do.
    var keepFolder = false
    defer { session.shutdown(keepingFolder: keepFolder) }
    let signals = SignalWatcher()
    defer { signals.stop() }
    lathe_install_crash_handlers()
    defer { lathe_remove_crash_handlers() }
    let terminal = try CursesTerminal.interactive()
    defer { terminal.close() }
    // Declared after the terminal, so it runs before the terminal is restored.
    defer { session.shutdown(keepingFolder: keepFolder) }

    // The theme and layout the user left, and the recent files, from the state folder.
    let app = WorkbenchApp.restoring(
      session: session, theme: theme, themeLibrary: .locate(), glyphs: terminal.isUnicode ? .unicode : .ascii,
      tutorials: .locate(), progressStore: .standard(), memory: WorkbenchMemory(folder: .standard()))
    if let tutorial { app.startTutorial(tutorial, restart: restart, openFiles: false) }
    if openingSearch { app.open(SearchScreen(app: app)) }
    if terminal.colorMode == .none, ProcessInfo.processInfo.environment["NO_COLOR"] != nil {
      app.post(.info, "NO_COLOR set: attributes only")
    }
    loop(app: app, terminal: terminal, signals: signals)
    app.saveSettings()
    keepFolder = app.keepsSessionFolder
    // Say why the screen stays a moment: a step stops at its next safe point.
    let state = session.state
    // A watched study's workers run on without the workbench: nothing of theirs to stop.
    if state.isBusy || (state.search?.isRunning == true && state.search?.isWatching == false) {
      app.post(.info, "stopping the running work…")
      let size = terminal.size
      terminal.present(app.render(width: size.width, height: size.height))
    }
    return keepFolder ? state.sessionFolder : nil
  }

  /// Draws when `FrameSchedule` says a frame is due; otherwise sleeps in the key wait.
  static func loop(app: WorkbenchApp, terminal: CursesTerminal, signals: SignalWatcher) {
    var tick = 0
    var schedule = FrameSchedule()
    while signals.requested == nil {
      let size = terminal.size
      let state = app.session.state
      let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
      if schedule.isDue(state, size: size, now: now) {
        if FrameSchedule.isWorking(state) { tick += 1 }
        terminal.present(app.render(width: size.width, height: size.height, tick: tick))
        schedule.drew(state, size: size, now: now)
      }
      guard let key = terminal.readKey(timeoutMilliseconds: pollMilliseconds) else { continue }
      if !app.handle(key) { return }
      schedule.keyPressed = true
    }
  }
}
