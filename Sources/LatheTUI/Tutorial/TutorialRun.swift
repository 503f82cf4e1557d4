/// A tutorial in progress: which step the learner is on, whether its checks hold, how many
/// wrong tries (and so how many hints) so far. The app owns one while a tutorial is active and
/// calls `update` on every new session state and key, so checks follow the live workbench.
public final class TutorialRun {
  public let tutorial: Tutorial
  /// The current step; `tutorial.steps.count` means the closing summary is showing.
  public private(set) var index: Int
  /// Wrong tries on this step: each one shows one more hint.
  public private(set) var tries = 0
  /// The checks' verdict at the last update.
  public private(set) var outcome: CheckOutcome = .waiting("")
  /// Once the checks hold the step stays done, even if the learner goes on exploring.
  public private(set) var isMet = false
  /// Values kept by earlier steps (`keep:`), by name.
  public private(set) var kept: [String: String]
  /// Why the tutorial's model or pipeline could not be opened, if it could not.
  public var openError: String?
  /// Set when resumed at a later step: runs from before this session are not on the workbench.
  public var resumedAt: Int?
  private var pressed: Set<String> = []
  private var finishedSteps = -1
  private var lastContext: TutorialContext?

  public init(tutorial: Tutorial, index: Int = 0, kept: [String: String] = [:]) {
    self.tutorial = tutorial
    self.index = max(0, min(index, tutorial.steps.count))
    self.kept = kept
  }

  public var step: TutorialStep? { index < tutorial.steps.count ? tutorial.steps[index] : nil }
  public var isFinished: Bool { index >= tutorial.steps.count }
  /// The hints earned so far by wrong tries.
  public var visibleHints: [String] { Array(step?.hints.prefix(tries) ?? []) }

  /// Records a key the workbench used (for `pressed:` checks).
  public func record(key: Key) {
    if let name = TutorialKeys.name(key) { pressed.insert(name) }
  }

  /// Re-evaluates the current step's checks. A step that finished (done or failed) without
  /// meeting them counts as a wrong try, so a run with the wrong setting earns a hint.
  public func update(_ context: TutorialContext) {
    var context = context
    context.pressed = pressed
    lastContext = context
    let finished = context.state.steps.filter {
      if case .failed = $0.state { return true }
      return $0.state == .done
    }.count
    defer { finishedSteps = finished }
    guard let step else {
      outcome = .met
      return
    }
    if isMet { return }
    outcome = step.checks.evaluate(context)
    if outcome == .met {
      isMet = true
      for value in step.keep { kept[value.name] = Placeholders.fill(value.placeholder, context, kept: kept) }
    } else if finishedSteps >= 0, finished > finishedSteps, !step.checks.isEmpty {
      tries += 1
    }
  }

  /// `]`: the next step when this one is done (or only explains); otherwise a wrong try, and
  /// the reason comes back for the status line.
  @discardableResult
  public func goOn() -> String? {
    guard let step else { return nil }
    if step.checks.isEmpty || isMet {
      move(to: index + 1)
      return nil
    }
    tries += 1
    switch outcome {
    case .waiting(let reason), .blocked(let reason): return reason.isEmpty ? "not yet" : "not yet: \(reason)"
    case .met: return nil
    }
  }

  /// `[`: the step before (its checks are evaluated again).
  public func back() {
    if index > 0 { move(to: index - 1) }
  }

  private func move(to newIndex: Int) {
    index = newIndex
    tries = 0
    isMet = false
    pressed = []
    outcome = .waiting("")
    if let lastContext { update(lastContext) }
  }

  /// Text with placeholders filled from the latest state.
  public func fill(_ text: String) -> String {
    guard let lastContext else { return text }
    return Placeholders.fill(text, lastContext, kept: kept)
  }
}

/// Key names as tutorial files write them (`pressed: v`, `pressed: enter`).
public enum TutorialKeys {
  public static func name(_ key: Key) -> String? {
    switch key {
    case .character(let character): return String(character)
    case .enter: return "enter"
    case .escape: return "esc"
    case .tab: return "tab"
    case .backTab: return "shift-tab"
    case .up: return "up"
    case .down: return "down"
    case .left: return "left"
    case .right: return "right"
    default: return nil
    }
  }
}
