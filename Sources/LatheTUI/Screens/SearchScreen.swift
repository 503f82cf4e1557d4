import Foundation

/// Search: start a study of a search pipeline, or watch one that runs elsewhere
/// (`lathe workbench --study URL`); see its trials finish (a sortable table, the best-so-far
/// curve, accuracy against size or latency with the Pareto front), open a trial's model and
/// pipeline in the workbench, or write the best trial's pipeline to a file (`b`).
public final class SearchScreen: Screen {
  /// What the scatter's x axis shows.
  public enum Axis: Equatable { case size, latency }

  /// Search pipelines offered, read once when the screen opens.
  public let pipelines: [String]
  public private(set) var selectedPipeline = 0
  public private(set) var trials = 12
  public private(set) var jobs: Int
  /// The selected row of the trial table, in `sort`'s order.
  public private(set) var selectedTrial = 0
  public private(set) var axis: Axis = .size
  public private(set) var sort = TrialSort()
  /// The selected trial's number: it stays selected while sorting or new trials move its row.
  private var selectedNumber: Int?
  /// True while the form for a new study shows: before the first, or after `n`.
  public private(set) var isSettingUp: Bool
  /// `b`: the best trial's number and the file its pipeline goes to, being typed.
  public private(set) var savingBest: (trial: Int, path: TextField)?
  /// The study on screen runs elsewhere (`--study`); updated on each frame and key.
  private var watching: Bool

  /// `cores` is the default number of trials at once.
  public init(app: WorkbenchApp, cores: Int = ProcessInfo.processInfo.activeProcessorCount) {
    pipelines = app.session.searchPipelines
    jobs = max(1, cores)
    isSettingUp = app.state.search == nil
    watching = app.state.search?.isWatching == true
  }

  public var title: String { "search" }

  public var capturesText: Bool { savingBest != nil }

  public var bindings: [KeyBinding] {
    if savingBest != nil {
      return [KeyBinding([.enter], hint: ("enter", "write")), KeyBinding([.escape], hint: ("esc", "cancel"))]
    }
    return isSettingUp ? Self.setupBindings : Self.studyBindings(axis: axis, watching: watching)
  }

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

  /// Showing a study; `x` names the axis it switches to. A study watched from elsewhere
  /// can be neither cancelled nor replaced here: no `c` or `n` then.
  static func studyBindings(axis: Axis, watching: Bool = false) -> [KeyBinding] {
    var bindings = [
      KeyBinding(KeyBinding.verticalKeys, hint: ("j/k", "trial")), KeyBinding([.enter], hint: ("enter", "open trial")),
      KeyBinding([Key("s"), Key("S")], hint: ("s/S", "sort"), help: ("s / S", "sort by the next column / reverse")),
      KeyBinding(
        [Key("x")], hint: ("x", axis == .size ? "latency axis" : "size axis"),
        help: ("x", "accuracy vs size or latency")),
    ]
    if !watching {
      bindings.append(KeyBinding([Key("c")], hint: ("c", "cancel"), help: ("c / n", "cancel the study / new study")))
      bindings.append(KeyBinding([Key("n")], hint: ("n", "new study")))
    }
    bindings.append(KeyBinding([.escape], hint: ("esc", "back")))
    bindings.append(KeyBinding([Key("b")], hint: ("b", "save best"), help: ("b", "save the best trial's pipeline")))
    return bindings
  }

  public func draw(_ canvas: Canvas, app: WorkbenchApp) {
    if isSettingUp {
      SearchSetupView(
        pipelines: pipelines, selected: selectedPipeline, trials: trials, jobs: jobs,
        running: app.state.search?.isRunning == true
      ).draw(canvas, context: app.context)
    } else if let search = app.state.search {
      watching = search.isWatching
      let rows = sort.sorted(search.trials)
      select(rows.firstIndex { $0.number == selectedNumber } ?? selectedTrial, in: rows)
      SearchStudyView(search: search, selected: selectedTrial, axis: axis, sort: sort)
        .draw(canvas, context: app.context)
    }
    if let (trial, path) = savingBest {
      let context = app.context
      let box = canvas.sub(Rect(x: 0, y: canvas.height - 3, width: canvas.width, height: 3))
      let inner = Panel.draw(box, title: "Write trial \(trial)'s pipeline", focused: true, context: context)
      let label = inner.text(1, 0, "to:", context.style(.title))
      path.draw(inner, x: label + 1, y: 0, width: max(10, inner.width - label - 2), context: context)
    }
  }

  /// Selects row `index` (kept in range) of `rows` and remembers its trial.
  private func select(_ index: Int, in rows: [SearchTrial]) {
    selectedTrial = max(0, min(rows.count - 1, index))
    selectedNumber = selectedTrial < rows.count ? rows[selectedTrial].number : nil
  }

  // MARK: keys

  public func handle(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    if let saving = savingBest { return handleSaving(saving, key, app: app) }
    return isSettingUp ? handleSetup(key, app: app) : handleStudy(key, app: app)
  }

  /// Typing where the best trial's pipeline goes; enter writes it (an error keeps the field).
  private func handleSaving(_ saving: (trial: Int, path: TextField), _ key: Key, app: WorkbenchApp) -> ScreenAction {
    var path = saving.path
    switch key {
    case .escape: savingBest = nil
    case .enter:
      let target = (path.text.trimmingCharacters(in: .whitespaces) as NSString).expandingTildeInPath
      guard !target.isEmpty else { return .handled }
      if app.attempt("write trial \(saving.trial)", { try app.session.saveTrialPipeline(saving.trial, to: target) }) {
        savingBest = nil
      }
    default:
      if path.handle(key) { savingBest = (saving.trial, path) }
    }
    return .handled
  }

  /// `b`: the best trial (the front's first: best by the first objective among the trials that
  /// keep every constraint) and a file name for it.
  private func startSavingBest(_ search: SearchState?, app: WorkbenchApp) {
    guard let search, let best = search.front.first else {
      app.post(.info, "no complete trial keeps every constraint yet: nothing is best")
      return
    }
    savingBest = (best, TextField("\(search.pipelineName)-trial-\(best).yaml"))
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
        selectedNumber = nil
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
    watching = search?.isWatching == true
    let rows = sort.sorted(search?.trials ?? [])
    // Trials may have arrived since the last frame: move from the selected trial's row now.
    let current = rows.firstIndex { $0.number == selectedNumber } ?? selectedTrial
    switch key {
    case .character("x"): axis = axis == .size ? .latency : .size
    case .character("b"): startSavingBest(search, app: app)
    case .character("s"), .character("S"):
      sort = key == Key("s") ? sort.next(objectives: search?.objectives ?? []) : sort.reversed
      // The same trial stays selected, on its new row.
      let sorted = sort.sorted(search?.trials ?? [])
      let number = current < rows.count ? rows[current].number : nil
      select(sorted.firstIndex { $0.number == number } ?? 0, in: sorted)
    case .character("c") where watching, .character("n") where watching: return .unhandled
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
      select(current + step, in: rows)
    }
    return .handled
  }

  /// Loads the selected trial into the session and goes back to the workbench to show it.
  private func openSelected(app: WorkbenchApp) -> ScreenAction {
    let trials = sort.sorted(app.state.search?.trials ?? [])
    guard let trial = trials.first(where: { $0.number == selectedNumber }) ?? trials.dropFirst(selectedTrial).first
    else { return .handled }
    guard trial.state == .complete else {
      app.post(.info, "trial \(trial.number) is \(trial.state.rawValue); pick a complete one")
      return .handled
    }
    return app.attempt("trial \(trial.number)", { try app.session.loadTrial(trial.number) }) ? .close : .handled
  }
}
