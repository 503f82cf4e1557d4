import LatheIO

/// The workbench: Model, Pipeline and Charts panels. Tab moves focus; the focused panel's
/// keys show in the bottom line.
public final class HomeScreen: Screen {
  public enum Focus: Int, CaseIterable { case model, pipeline, charts }

  public private(set) var focus: Focus = .model
  public private(set) var selectedLayer = 0
  public private(set) var selectedStep = 0
  /// Panel rectangles and table scroll offsets from the last frame, for mouse clicks.
  private var panelRects: [Focus: Rect] = [:]
  private var layerOffset = 0
  private var stepOffset = 0

  public init() {}

  public var title: String { "workbench" }

  /// Every key of the workbench, dispatched from this list; the hints follow the focused panel.
  public var bindings: [KeyBinding] {
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
    return [
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
      case .model: drawModel(panelCanvas, app: app)
      case .pipeline: drawPipeline(panelCanvas, app: app)
      case .charts:
        ChartsPanel.draw(panelCanvas, state: app.state, focused: self.focus == .charts, context: app.context)
      }
    }
  }

  // MARK: model panel

  private func drawModel(_ canvas: Canvas, app: WorkbenchApp) {
    let context = app.context
    guard let model = app.state.model else {
      let inner = Panel.draw(canvas, title: "Model", focused: focus == .model, context: context)
      inner.text(1, 1, "No model open. Press o to open a .safetensors or .onnx file.", context.style(.inactive))
      return
    }
    let note = "\(model.layers.count) layers"
    let inner = Panel.draw(
      canvas, title: "Model · \(model.name)", focused: focus == .model, context: context, note: note)
    selectedLayer = min(selectedLayer, max(0, model.layers.count - 1))
    let wide = inner.width >= 80
    var columns = [TableColumn("layer", .weight(2)), TableColumn("op", .fixed(8))]
    if wide { columns.append(TableColumn("shape", .fixed(12))) }
    columns += [
      TableColumn("params", .fixed(7), .right), TableColumn("sparsity", .fixed(12)),
      TableColumn("bits", .fixed(4), .right), TableColumn("bytes", .fixed(8), .right),
    ]
    if wide { columns.append(TableColumn("kernel", .weight(1))) }
    // After an int8 sensitivity step, each layer's KL divergence when quantized alone.
    let sensitivity = Self.int8Sensitivity(app.state)
    let worst = sensitivity.values.sorted(by: >).prefix(3).last ?? .infinity
    if !sensitivity.isEmpty { columns.append(TableColumn("int8 KL", .fixed(8), .right)) }
    func row(_ layer: LayerRow) -> [TableCell] {
      var cells: [TableCell] = [.text(layer.name), .text(layer.op, .inactive)]
      if wide { cells.append(.text(Format.shape(layer.shape), .inactive)) }
      cells += [
        .text(Format.count(layer.parameters)),
        layer.parameters == 0
          ? .text("-", .inactive)
          : .bar(layer.sparsity, Format.fit(Format.percent(layer.sparsity, digits: 0), 4, right: true)),
        .text(layer.parameters == 0 ? "-" : Format.axis(layer.bits), layer.bits < 32 ? .highlight : nil),
        .text(ByteCount.format(layer.bytes)),
      ]
      if wide { cells.append(.text(layer.kernel, .inactive)) }
      if !sensitivity.isEmpty {
        cells.append(
          sensitivity[layer.name].map { .text(Format.axis($0), $0 >= worst ? .highlight : .inactive) } ?? .text("-"))
      }
      return cells
    }
    let totals = model.totals
    var footer: [TableCell] = [.text("total"), .text("")]
    if wide { footer.append(.text("")) }
    footer += [
      .text(Format.count(totals.parameters)),
      .bar(totals.sparsity, Format.fit(Format.percent(totals.sparsity, digits: 0), 4, right: true)),
      .text(
        totals.parameters == 0 || totals.bytes == 0
          ? "-" : Format.axis(Double(totals.bytes * 8) / Double(max(1, totals.parameters)))),
      .text(totals.bytes > 0 ? ByteCount.format(totals.bytes) : "-"),
    ]
    if wide { footer.append(.text("")) }
    if !sensitivity.isEmpty { footer.append(.text("")) }
    let table = Table(columns: columns, rows: model.layers.map(row), footer: footer, selected: selectedLayer)
    layerOffset = table.draw(inner, context: context, focused: focus == .model)
  }

  /// The `int8_kl_<layer>` findings of the last done step that has them (a `sensitivity` step in
  /// int8 mode), by layer; the three most sensitive layers are highlighted.
  static func int8Sensitivity(_ state: WorkbenchState) -> [String: Double] {
    let prefix = "int8_kl_"
    guard
      let extra = state.steps.last(where: { step in
        step.state == .done && step.metrics?.extra.keys.contains { $0.hasPrefix(prefix) } == true
      })?.metrics?.extra
    else { return [:] }
    return Dictionary(
      uniqueKeysWithValues: extra.filter { $0.key.hasPrefix(prefix) }.map {
        (String($0.key.dropFirst(prefix.count)), $0.value)
      })
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
    bindings.dispatch(key, app: app) ?? .unhandled
  }

  private func move(_ step: Int, app: WorkbenchApp) {
    switch focus {
    case .model:
      let count = app.state.model?.layers.count ?? 0
      selectedLayer = max(0, min(count - 1, selectedLayer + step))
    case .pipeline:
      selectedStep = max(0, min(app.state.steps.count - 1, selectedStep + step))
    case .charts: break
    }
  }

  private func openSelected(app: WorkbenchApp) -> ScreenAction {
    switch focus {
    case .model:
      guard let layers = app.state.model?.layers, selectedLayer < layers.count else { return .handled }
      let name = layers[selectedLayer].name
      guard let detail = app.session.layerDetail(named: name) else {
        app.post(.info, "\(name) has no weights to show")
        return .handled
      }
      return .open(LayerDetailScreen(detail: detail, layer: layers[selectedLayer]))
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
    let row = y - rect.y - 1 - Table.headerHeight
    guard row >= 0 else { return .handled }
    switch panel {
    case .model:
      let index = layerOffset + row
      guard index < app.state.model?.layers.count ?? 0 else { return .handled }
      if index == selectedLayer { return openSelected(app: app) }
      selectedLayer = index
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
