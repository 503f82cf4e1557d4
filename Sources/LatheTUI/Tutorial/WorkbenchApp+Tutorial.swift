/// The workbench's side of tutorials: starting and leaving them, their keys, and keeping the
/// checks and the saved progress in step with the session.
extension WorkbenchApp {
  /// Saved progress of every tutorial (empty when progress is not kept).
  public var tutorialProgress: TutorialProgress { progressStore?.load() ?? TutorialProgress() }

  /// Starts `tutorial` where the learner left it (or from the top with `restart`, or when it
  /// was completed), opening its model, dataset and pipeline unless `openFiles` is false (the
  /// session was made from them already). A file that will not open leaves the workbench as it
  /// was and says so in the panel.
  public func startTutorial(_ tutorial: Tutorial, restart: Bool = false, openFiles: Bool = true) {
    let saved = tutorialProgress.tutorials[tutorial.name]
    let fresh = restart || saved == nil || saved!.completed
    let run = TutorialRun(
      tutorial: tutorial, index: fresh ? 0 : saved!.step, kept: fresh ? [:] : saved!.kept)
    if run.index > 0 { run.resumedAt = run.index }
    if openFiles {
      do {
        try session.open(model: tutorial.model, dataset: tutorial.dataset, pipeline: tutorial.pipeline)
      } catch {
        run.openError = "\(error)"
      }
    }
    resetToHome()
    self.tutorial = run
    updateTutorial()
    saveTutorialProgress()
    post(.info, "tutorial: \(tutorial.title)" + (run.index > 0 ? " (resumed at step \(run.index + 1))" : ""))
  }

  /// Ends the tutorial; the workbench stays as it is, with whatever the learner did.
  public func leaveTutorial() {
    guard let run = tutorial else { return }
    saveTutorialProgress()
    tutorial = nil
    post(.info, "left the tutorial \(run.tutorial.title); T to come back")
  }

  /// The keys of a running tutorial, dispatched from here before the screen sees them; without
  /// a tutorial they pass on. `T`, which opens the list, is one of the app's global keys.
  static var tutorialBindings: [KeyBinding] {
    [
      KeyBinding([Key("]")], help: ("] / [", "next / previous step")) { _, app in
        guard let run = app.tutorial else { return .unhandled }
        if let reason = run.goOn() {
          app.post(.warning, reason)
        } else {
          app.saveTutorialProgress()
        }
        return .handled
      },
      KeyBinding([Key("[")]) { _, app in
        guard let run = app.tutorial else { return .unhandled }
        run.back()
        app.saveTutorialProgress()
        return .handled
      },
      KeyBinding([Key("X")], help: ("X", "leave the tutorial")) { _, app in
        guard app.tutorial != nil else { return .unhandled }
        app.leaveTutorial()
        return .handled
      },
    ]
  }

  /// `T` everywhere; `]`, `[` and `X` while a tutorial runs. True when the key was used.
  func handleTutorialKey(_ key: Key) -> Bool {
    if key == Key("T") {
      if !(top is TutorialListScreen) { open(TutorialListScreen(library: tutorials)) }
      return true
    }
    guard case .handled? = Self.tutorialBindings.dispatch(key, app: self) else { return false }
    return true
  }

  /// Evaluates the current step's checks against the session as it is now.
  func updateTutorial() {
    guard let run = tutorial else { return }
    // A key may have changed the session since this frame's state was read (the editor applies
    // a pipeline): read it again, or a new pipeline would be checked against old step results.
    refreshState()
    let wasMet = run.isMet
    run.update(
      TutorialContext(state: state, pipeline: session.pipeline, techniques: tutorialTechniques, screen: top.title))
    if run.isMet && !wasMet && !run.kept.isEmpty { saveTutorialProgress() }
  }

  func saveTutorialProgress() {
    guard let run = tutorial, let progressStore else { return }
    do {
      try progressStore.update(run.tutorial.name) { entry in
        entry.step = run.isFinished ? 0 : run.index
        entry.kept = run.kept
        if run.isFinished { entry.completed = true }
      }
    } catch {
      post(.warning, "tutorial progress not saved: \(error)")
    }
  }
}
