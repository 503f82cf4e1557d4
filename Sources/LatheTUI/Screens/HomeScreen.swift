import LatheIO

/// The workbench: Model, Pipeline and Charts panels. Tab moves focus; the focused panel's
/// keys show in the bottom line.
public final class HomeScreen: Screen {
  public enum Focus: Int, CaseIterable { case model, pipeline, charts }

  public private(set) var focus: Focus = .model
  public private(set) var selectedStep = 0
  /// The layer table: filter, folds, sort and selection (`ModelPanel`).
  let modelPanel = ModelPanel()
  /// Panel rectangles and the pipeline table's scroll offset from the last frame, for mouse clicks.
  private var panelRects: [Focus: Rect] = [:]
  private var stepOffset = 0

  public init() {}

  public var title: String { "workbench" }

  /// The index in the model's layers of the selected layer (a block's first, on a group row).
  public var selectedLayer: Int { modelPanel.selectedLayer ?? 0 }

  /// While the model panel's filter is typed, letters are text, not commands.
  public var capturesText: Bool { focus == .model && modelPanel.isTypingFilter }

  /// Every key of the workbench, dispatched from this list; the hints follow the focused panel.
  public var bindings: [KeyBinding] {
    if capturesText { return ModelPanel.typingBindings }
    let move: (key: String, text: String)?
    let open: (key: String, text: String)?
    switch focus {
    case .model: (move, open) = (("j/k", "layer"), ("enter", "detail"))
    case .pipeline: (move, open) = (("j/k", "step"), ("enter", "train/compare"))
    case .charts: (move, open) = (nil, nil)
    }
    func command(_ run: @escaping (WorkbenchSession) -> Void) -> (Key, WorkbenchApp) -> ScreenAction {
      { _, app in
        run(app.session)
        return .handled
      }
    }
    var list = [
      KeyBinding([.tab, .backTab], hint: ("tab", "panel"), help: ("tab / shift-tab", "next / previous panel")) {
        key, _ in
        let count = Focus.allCases.count
        self.focus = Focus(rawValue: (self.focus.rawValue + (key == .tab ? 1 : count - 1)) % count)!
        return .handled
      },
      KeyBinding(KeyBinding.verticalKeys, hint: move, help: ("j k / arrows", "move")) { key, app in
        self.move(key.verticalStep ?? 0, app: app)
        return .handled
      },
      KeyBinding([.enter], hint: open, help: ("enter", "open layer or step")) { _, app in self.openSelected(app: app) },
      KeyBinding([Key("n")], hint: ("n", "next"), help: ("n", "run next step"), action: command { $0.runNextStep() }),
      KeyBinding(
        [Key("a")], hint: ("a", "all"), help: ("a", "run all remaining steps"),
        action: command { $0.runRemainingSteps() }),
      KeyBinding(
        [Key("c")], hint: ("c", "cancel"), help: ("c", "cancel running step"), action: command { $0.cancel() }),
      KeyBinding(
        [Key("u")], hint: ("u", "undo"), help: ("u", "undo: back to previous snapshot"), action: command { $0.undo() }),
      KeyBinding([Key("e")], hint: ("e", "edit"), help: ("e", "edit pipeline")) { _, app in
        .open(StepEditorScreen(app: app))
      },
      KeyBinding([Key("v")], hint: ("v", "compare"), help: ("v", "compare snapshots")) { _, app in
        .open(CompareScreen(app: app))
      },
      KeyBinding([Key("s")], hint: ("s", "search"), help: ("s", "search a pipeline's settings")) { _, app in
        .open(SearchScreen(app: app))
      },
      KeyBinding([Key("o")], hint: ("o", "open"), help: ("o", "open model, dataset or pipeline")) { _, _ in
        .open(OpenScreen())
      },
      // The app's key (every screen has it); shown here because the workbench is where themes are tried.
      KeyBinding([Key("t")], hint: ("t", "theme")),
      KeyBinding([Key("m")], help: ("m", "training monitor")) { _, _ in .open(TrainingMonitorScreen()) },
      KeyBinding([Key("p")], help: ("p", "prompt a language model")) { _, _ in
        .open(PromptScreen())
      },
      KeyBinding([.mouse(x: 0, y: 0, button: 1)], help: ("mouse", "click panel / row")) { key, app in
        guard case .mouse(let x, let y, _) = key else { return .handled }
        return self.click(x: x, y: y, app: app)
      },
    ]
    // The model panel's own keys (filter, jump, fold, sort, graph) follow enter.
    if focus == .model { list.insert(contentsOf: modelPanel.bindings, at: 3) }
    return list
  }

  /// Side by side when wide, stacked when narrow (lazygit's portrait mode).
  static func layout(width: Int) -> LayoutBox {
    if width >= 120 {
      return .row(
        [
          .column([.panel("model", .weight(3)), .panel("pipeline", .weight(2))], .weight(3)),
          .panel("charts", .weight(2)),
        ], .weight(1))
    }
    return .column(
      [.panel("model", .weight(3)), .panel("pipeline", .weight(2)), .panel("charts", .weight(3))], .weight(1))
  }

  public func draw(_ canvas: Canvas, app: WorkbenchApp) {
    let rects = Layout.arrange(
      HomeScreen.layout(width: canvas.width), in: Rect(x: 0, y: 0, width: canvas.width, height: canvas.height))
    panelRects = [:]
    for focus in Focus.allCases {
      let name = "\(focus)"
      guard let rect = rects[name] else { continue }
      panelRects[focus] = Rect(
        x: canvas.rect.x + rect.x, y: canvas.rect.y + rect.y, width: rect.width, height: rect.height)
      let panelCanvas = canvas.sub(rect)
      switch focus {
      case .model: modelPanel.draw(panelCanvas, app: app, focused: self.focus == .model)
      case .pipeline: drawPipeline(panelCanvas, app: app)
      case .charts:
        ChartsPanel.draw(panelCanvas, state: app.state, focused: self.focus == .charts, context: app.context)
      }
    }
  }

  // MARK: pipeline panel

  private func drawPipeline(_ canvas: Canvas, app: WorkbenchApp) {
    let context = app.context
    let steps = app.state.steps
    let done = steps.filter { $0.state == .done }.count
    let inner = Panel.draw(
      canvas, title: "Pipeline", focused: focus == .pipeline, context: context, note: "\(done)/\(steps.count) done")
    guard !steps.isEmpty else {
      inner.text(1, 1, "No steps yet. Press e to add compression steps.", context.style(.inactive))
      return
    }
    selectedStep = min(selectedStep, steps.count - 1)
    // Without labels the score is agreement with the input model, and the KL divergence from
    // its outputs says how far each step moved (a column when there is room).
    // A CTC model's score is the share of lines read exactly, and its character error rate.
    let againstInput = app.state.baseline?.scoredAgainst != nil
    let sequences = app.state.baseline?.extra[ChartsPanel.characterErrorRate] != nil
    let showKL = againstInput && inner.width >= 72
    let showCER = sequences && inner.width >= 72
    var columns = [
      TableColumn("", .fixed(1)), TableColumn("#", .fixed(2), .right), TableColumn("step", .weight(2)),
      TableColumn("technique", .weight(2)), TableColumn("state", .fixed(16)),
      TableColumn(againstInput ? "agree" : sequences ? "exact" : "acc", .fixed(6), .right),
    ]
    if showKL { columns.append(TableColumn("KL", .fixed(7), .right)) }
    if showCER { columns.append(TableColumn("CER", .fixed(7), .right)) }
    columns += [TableColumn("size", .fixed(8), .right), TableColumn("b1 p50", .fixed(8), .right)]
    let rows: [[TableCell]] = steps.enumerated().map { index, step in
      var cells: [TableCell] = [
        .text(String(mark(step.state, context: context)), role(step.state)), .text("\(index + 1)", .inactive),
        .text(step.name), .text(step.technique, .inactive),
      ]
      switch step.state {
      case .pending: cells.append(.text("pending", .inactive))
      case .running:
        cells.append(.bar(step.progress, Format.fit(Format.percent(step.progress, digits: 0), 4, right: true)))
      case .done: cells.append(.text("done", .ok))
      case .failed(let reason): cells.append(.text(reason.isEmpty ? "failed" : reason, .error))
      }
      if let metrics = step.metrics {
        cells.append(.text(Format.percent(metrics.accuracy)))
        if showKL { cells.append(.text(metrics.extra["mean_kl_with_input"].map(Format.axis) ?? "-")) }
        if showCER {
          cells.append(.text(metrics.extra[ChartsPanel.characterErrorRate].map { Format.percent($0) } ?? "-"))
        }
        cells += [
          .text(ByteCount.format(metrics.sizeBytes)),
          .text(Format.micros(metrics.latencyUs.batch1P50, ascii: !context.glyphs.isUnicode)),
        ]
      } else if step.state == .running, !step.message.isEmpty {
        cells.append(.text(step.message, .running))
      }
      return cells
    }
    let table = Table(columns: columns, rows: rows, selected: selectedStep)
    stepOffset = table.draw(inner, context: context, focused: focus == .pipeline)
  }

  private func mark(_ state: StepRow.State, context: DrawContext) -> Unicode.Scalar {
    switch state {
    case .pending: return context.glyphs.pendingMark
    case .running: return context.spinner
    case .done: return context.glyphs.check
    case .failed: return context.glyphs.cross
    }
  }

  private func role(_ state: StepRow.State) -> ThemeColor {
    switch state {
    case .pending: return .inactive
    case .running: return .running
    case .done: return .ok
    case .failed: return .error
    }
  }

  // MARK: keys

  public func handle(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    if capturesText { return modelPanel.handleTyping(key, app: app) }
    return bindings.dispatch(key, app: app) ?? .unhandled
  }

  private func move(_ step: Int, app: WorkbenchApp) {
    switch focus {
    case .model:
      modelPanel.refresh(app.state)
      modelPanel.move(step)
    case .pipeline:
      selectedStep = max(0, min(app.state.steps.count - 1, selectedStep + step))
    case .charts: break
    }
  }

  private func openSelected(app: WorkbenchApp) -> ScreenAction {
    switch focus {
    case .model:
      modelPanel.refresh(app.state)
      // Enter on a group row folds or unfolds it, as on a folder in lazygit's file tree.
      if modelPanel.selectedBlock != nil {
        modelPanel.toggleSelectedBlock()
        return .handled
      }
      guard let index = modelPanel.selectedLayer, let layers = app.state.model?.layers, index < layers.count else {
        return .handled
      }
      let name = layers[index].name
      guard let detail = app.session.layerDetail(named: name) else {
        app.post(.info, "\(name) has no weights to show; i shows its inputs and outputs")
        return .handled
      }
      return .open(LayerDetailScreen(detail: detail, layer: layers[index]))
    case .pipeline:
      let steps = app.state.steps
      guard selectedStep < steps.count else { return .handled }
      if steps[selectedStep].state == .running { return .open(TrainingMonitorScreen()) }
      return .open(CompareScreen(app: app))
    case .charts:
      return .handled
    }
  }

  /// A click focuses the panel under it and selects the row; a click on the selected row opens it.
  private func click(x: Int, y: Int, app: WorkbenchApp) -> ScreenAction {
    guard let (panel, rect) = panelRects.first(where: { $0.value.contains(x: x, y: y) }) else { return .handled }
    focus = panel
    if panel == .model {
      modelPanel.refresh(app.state)
      guard let index = modelPanel.row(atPanelY: y - rect.y) else { return .handled }
      return modelPanel.click(row: index) ? openSelected(app: app) : .handled
    }
    let row = y - rect.y - 1 - Table.headerHeight
    guard row >= 0 else { return .handled }
    switch panel {
    case .model: break
    case .pipeline:
      let index = stepOffset + row
      guard index < app.state.steps.count else { return .handled }
      if index == selectedStep { return openSelected(app: app) }
      selectedStep = index
    case .charts: break
    }
    return .handled
  }
}
