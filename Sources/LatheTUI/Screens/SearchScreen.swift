import Foundation

/// Search: start a study of a search pipeline, watch its trials finish (a table, the
/// best-so-far curve, accuracy against size or latency with the Pareto front), and open a
/// trial's model and pipeline in the workbench.
public final class SearchScreen: Screen {
  /// What the scatter's x axis shows.
  public enum Axis: Equatable { case size, latency }

  /// Search pipelines offered, read once when the screen opens.
  public let pipelines: [String]
  public private(set) var selectedPipeline = 0
  public private(set) var trials = 12
  public private(set) var jobs: Int
  public private(set) var selectedTrial = 0
  public private(set) var axis: Axis = .size
  /// True while the form for a new study shows: before the first, or after `n`.
  public private(set) var isSettingUp: Bool

  /// `cores` is the default number of trials at once.
  public init(app: WorkbenchApp, cores: Int = ProcessInfo.processInfo.activeProcessorCount) {
    pipelines = app.session.searchPipelines
    jobs = max(1, cores)
    isSettingUp = app.state.search == nil
  }

  public var title: String { "search" }

  public var bindings: [KeyBinding] { isSettingUp ? Self.setupBindings : Self.studyBindings(axis: axis) }

  /// Choosing a pipeline and the size of a new study.
  static var setupBindings: [KeyBinding] {
    [
      KeyBinding(KeyBinding.verticalKeys, hint: ("j/k", "pipeline")),
      KeyBinding(
        [Key("+"), Key("="), Key("-")], hint: ("+/-", "trials"), help: ("+ - / < >", "trials / jobs of a new study")),
      KeyBinding([Key("<"), Key(">")], hint: ("</>", "jobs")),
      KeyBinding([.enter], hint: ("enter", "start"), help: ("enter", "start; open the trial")),
      KeyBinding([.escape], hint: ("esc", "back")),
    ]
  }

  /// Watching a study; `x` names the axis it switches to.
  static func studyBindings(axis: Axis) -> [KeyBinding] {
    [
      KeyBinding(KeyBinding.verticalKeys, hint: ("j/k", "trial")), KeyBinding([.enter], hint: ("enter", "open trial")),
      KeyBinding(
        [Key("x")], hint: ("x", axis == .size ? "latency axis" : "size axis"),
        help: ("x", "accuracy vs size or latency")),
      KeyBinding([Key("c")], hint: ("c", "cancel"), help: ("c", "cancel the study")),
      KeyBinding([Key("n")], hint: ("n", "new study"), help: ("n", "new study")),
      KeyBinding([.escape], hint: ("esc", "back")),
    ]
  }

  public func draw(_ canvas: Canvas, app: WorkbenchApp) {
    if isSettingUp {
      SearchSetupView(
        pipelines: pipelines, selected: selectedPipeline, trials: trials, jobs: jobs,
        running: app.state.search?.isRunning == true
      ).draw(canvas, context: app.context)
    } else if let search = app.state.search {
      selectedTrial = min(selectedTrial, max(0, search.trials.count - 1))
      SearchStudyView(search: search, selected: selectedTrial, axis: axis).draw(canvas, context: app.context)
    }
  }

  // MARK: keys

  public func handle(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    isSettingUp ? handleSetup(key, app: app) : handleStudy(key, app: app)
  }

  private func handleSetup(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    switch key {
    case .character("+"), .character("="): trials = min(1000, trials + 1)
    case .character("-"): trials = max(1, trials - 1)
    case .character(">"): jobs = min(64, jobs + 1)
    case .character("<"): jobs = max(1, jobs - 1)
    case .enter:
      guard selectedPipeline < pipelines.count else {
        app.post(.info, "no search pipeline to start")
        return .handled
      }
      let request = SearchRequest(pipeline: pipelines[selectedPipeline], trials: trials, jobs: jobs)
      if app.attempt("search", { try app.session.startSearch(request) }) {
        isSettingUp = false
        selectedTrial = 0
      }
    case .escape:
      guard app.state.search != nil else { return .close }
      isSettingUp = false
    default:
      guard let step = key.verticalStep else { return .unhandled }
      selectedPipeline = max(0, min(pipelines.count - 1, selectedPipeline + step))
    }
    return .handled
  }

  private func handleStudy(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    let search = app.state.search
    switch key {
    case .character("x"): axis = axis == .size ? .latency : .size
    case .character("c"): app.session.cancelSearch()
    case .character("n"):
      if search?.isRunning == true {
        app.post(.info, "a study is running; c cancels it first")
      } else {
        isSettingUp = true
      }
    case .enter: return openSelected(app: app)
    case .escape: return .close
    default:
      guard let step = key.verticalStep else { return .unhandled }
      selectedTrial = max(0, min((search?.trials.count ?? 0) - 1, selectedTrial + step))
    }
    return .handled
  }

  /// Loads the selected trial into the session and goes back to the workbench to show it.
  private func openSelected(app: WorkbenchApp) -> ScreenAction {
    guard let trials = app.state.search?.trials, selectedTrial < trials.count else { return .handled }
    let trial = trials[selectedTrial]
    guard trial.state == .complete else {
      app.post(.info, "trial \(trial.number) is \(trial.state.rawValue); pick a complete one")
      return .handled
    }
    return app.attempt("trial \(trial.number)", { try app.session.loadTrial(trial.number) }) ? .close : .handled
  }
}
