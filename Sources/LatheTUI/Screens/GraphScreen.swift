import LatheIO

/// Netron's job in a terminal: one layer in the middle with what it reads on the left and what
/// reads it on the right, each with its output shape, walkable with the keys (enter makes the
/// selected neighbour the centre, backspace goes back). Layers a step changed are marked `●`
/// and the centre says how, against the model as opened. The graph is the session's own
/// (`LayerRow.inputs`), read on every frame, so it follows undo and new steps.
public final class GraphScreen: Screen {
  /// Which list of neighbours the cursor is in.
  public enum Side: Equatable, Sendable { case inputs, outputs }

  /// The layer in the middle.
  public private(set) var centre: String
  public private(set) var side: Side = .outputs
  /// The selected row of the side's list.
  public private(set) var selected = 0
  /// Earlier centres, the last one most recent (backspace returns to it).
  public private(set) var history: [String] = []
  /// The side panels' rectangles and scroll offsets in the last frame, for clicks.
  private var sideRects: [Side: (rect: Rect, offset: Int)] = [:]

  public init(layer: String) { centre = layer }

  public var title: String { "graph" }
  /// Every key of the screen, dispatched from this list.
  public var bindings: [KeyBinding] {
    [
      KeyBinding(
        [Key("h"), Key("l"), .left, .right, .tab, .backTab], hint: ("h/l", "inputs/outputs"),
        help: ("h l / tab", "inputs / outputs list")
      ) { key, _ in self.switchSide(key) },
      KeyBinding(KeyBinding.verticalKeys, hint: ("j/k", "node")) { key, app in self.move(key, app: app) },
      KeyBinding([.enter], hint: ("enter", "go to"), help: ("enter", "walk to the selected node")) {
        _, app in self.goToSelected(app: app)
      },
      KeyBinding([.backspace], hint: ("bksp", "previous"), help: ("backspace", "back to the previous centre")) { _, _ in
        self.goBack()
      },
      KeyBinding([.mouse(x: 0, y: 0, button: 1)], help: ("mouse", "click a node, again to go")) { key, app in
        guard case .mouse(let x, let y, _) = key else { return .handled }
        return self.click(x: x, y: y, app: app)
      },
      KeyBinding([.escape], hint: ("esc", "back")),
    ]
  }

  public func handle(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    bindings.dispatch(key, app: app) ?? .unhandled
  }

  // MARK: moving

  /// The centre's neighbours on each side, in the current model.
  private func neighbours(_ graph: LayerGraph) -> [Side: [LayerGraph.Node]] {
    [.inputs: graph.producers(of: centre), .outputs: graph.consumers(of: centre).map(LayerGraph.Node.layer)]
  }

  private func graph(_ app: WorkbenchApp) -> LayerGraph { LayerGraph(app.state.model?.layers ?? []) }

  private func switchSide(_ key: Key) -> ScreenAction {
    switch key {
    case Key("h"), .left: side = .inputs
    case Key("l"), .right: side = .outputs
    default: side = side == .inputs ? .outputs : .inputs
    }
    selected = 0
    return .handled
  }

  private func move(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    let count = neighbours(graph(app))[side]?.count ?? 0
    selected = max(0, min(count - 1, selected + (key.verticalStep ?? 0)))
    return .handled
  }

  /// The selected neighbour becomes the centre; a model input is not a layer and stays put.
  private func goToSelected(app: WorkbenchApp) -> ScreenAction {
    let graph = graph(app)
    guard let list = neighbours(graph)[side], selected < list.count else { return .handled }
    guard case .layer(let index) = list[selected] else {
      app.post(.info, "that is one of the model's inputs, not a layer")
      return .handled
    }
    history.append(centre)
    centre = graph.layers[index].name
    // Walking on in the same direction is the usual next move.
    selected = 0
    return .handled
  }

  private func goBack() -> ScreenAction {
    guard let previous = history.popLast() else { return .handled }
    centre = previous
    selected = 0
    return .handled
  }

  /// A click on a neighbour selects it; a click on the selected one goes to it.
  private func click(x: Int, y: Int, app: WorkbenchApp) -> ScreenAction {
    guard let (clickedSide, panel) = sideRects.first(where: { $0.value.rect.contains(x: x, y: y) }) else {
      return .handled
    }
    let row = y - panel.rect.y - 1 - Table.headerHeight
    let count = neighbours(graph(app))[clickedSide]?.count ?? 0
    guard row >= 0, panel.offset + row < count else { return .handled }
    if clickedSide == side && panel.offset + row == selected { return goToSelected(app: app) }
    side = clickedSide
    selected = panel.offset + row
    return .handled
  }

  // MARK: drawing

  public func draw(_ canvas: Canvas, app: WorkbenchApp) {
    let context = app.context
    let graph = graph(app)
    sideRects = [:]
    guard graph.layer(named: centre) != nil else {
      let inner = Panel.draw(canvas, title: "Graph", focused: true, context: context)
      inner.text(1, 1, "\(centre) is not in the model any more (esc goes back).", context.style(.inactive))
      return
    }
    let original = app.session.snapshots.first?.layers ?? []
    let originalByName = Dictionary(original.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    let lists = neighbours(graph)
    selected = max(0, min(selected, (lists[side]?.count ?? 1) - 1))
    let full = Rect(x: 0, y: 0, width: canvas.width, height: canvas.height)
    let details = centreLines(
      graph.layers[graph.layer(named: centre)!], graph: graph, original: original, byName: originalByName,
      context: context)
    let (inputsRect, centreRect, outputsRect, arrows) = Self.arrange(
      full, inputs: lists[.inputs]!.count, outputs: lists[.outputs]!.count, centreLines: details.count)
    for (listSide, rect) in [(Side.inputs, inputsRect), (.outputs, outputsRect)] {
      let offset = drawList(
        canvas.sub(rect), side: listSide, nodes: lists[listSide]!, graph: graph, original: originalByName,
        context: context)
      sideRects[listSide] = (
        Rect(x: canvas.rect.x + rect.x, y: canvas.rect.y + rect.y, width: rect.width, height: rect.height), offset
      )
    }
    drawCentre(canvas.sub(centreRect), title: centre, lines: details, context: context)
    let arrow = context.glyphs.isUnicode ? "──▶" : "-->"
    for (x, y) in arrows { canvas.text(x, y, arrow, context.style(.border)) }
  }

  /// Side by side (inputs, centre, outputs, with arrows between) when wide, each box as tall
  /// as its contents; stacked when narrow, the lists taking what they need (up to a quarter of
  /// the height each) and the centre the rest. `centreLines` is the centre's content height.
  static func arrange(_ area: Rect, inputs: Int, outputs: Int, centreLines: Int) -> (Rect, Rect, Rect, [(Int, Int)]) {
    func listHeight(_ count: Int, limit: Int) -> Int { max(4, min(limit, count + 3)) }
    if area.width >= 100 {
      let gap = 3
      let sideWidth = (area.width - 2 * gap) * 3 / 10
      let centreWidth = area.width - 2 * gap - 2 * sideWidth
      let inputs = Rect(
        x: area.x, y: area.y, width: sideWidth, height: listHeight(inputs, limit: area.height))
      let centre = Rect(
        x: area.x + sideWidth + gap, y: area.y, width: centreWidth, height: min(area.height, centreLines + 2))
      let outputs = Rect(
        x: centre.x + centreWidth + gap, y: area.y, width: sideWidth, height: listHeight(outputs, limit: area.height))
      // The arrows meet each list's first row.
      let arrowY = area.y + 2
      return (inputs, centre, outputs, [(inputs.x + sideWidth, arrowY), (centre.x + centreWidth, arrowY)])
    }
    let inputsRect = Rect(x: area.x, y: area.y, width: area.width, height: listHeight(inputs, limit: area.height / 4))
    let outputsHeight = listHeight(outputs, limit: area.height / 4)
    let outputsRect = Rect(
      x: area.x, y: area.y + area.height - outputsHeight, width: area.width, height: outputsHeight)
    let centre = Rect(
      x: area.x, y: area.y + inputsRect.height, width: area.width,
      height: area.height - inputsRect.height - outputsHeight)
    return (inputsRect, centre, outputsRect, [])
  }

  /// One side's neighbours as a table: a change mark, the name, op and output shape. Returns
  /// the scroll offset.
  private func drawList(
    _ canvas: Canvas, side listSide: Side, nodes: [LayerGraph.Node], graph: LayerGraph,
    original: [String: LayerRow], context: DrawContext
  ) -> Int {
    let focused = side == listSide
    let title = listSide == .inputs ? "Inputs · reads" : "Outputs · read by"
    let inner = Panel.draw(canvas, title: title, focused: focused, context: context, note: "\(nodes.count)")
    guard !nodes.isEmpty else {
      let none = listSide == .inputs ? "reads nothing" : "nothing reads it: a model output"
      inner.text(1, 1, none, context.style(.inactive))
      return 0
    }
    let columns = [
      TableColumn("", .fixed(1)), TableColumn("layer", .weight(3)), TableColumn("op", .weight(1)),
      TableColumn("shape", .fixed(12)),
    ]
    let rows: [[TableCell]] = nodes.map { node in
      switch node {
      case .modelInput(let name):
        return [.text(""), .text(name), .text("model input", .inactive), .text("")]
      case .layer(let index):
        let layer = graph.layers[index]
        let changed = !LayerChanges.describe(layer, original: original[layer.name]).isEmpty && !original.isEmpty
        return [
          .text(changed ? (context.glyphs.isUnicode ? "●" : "*") : "", .highlight), .text(layer.name),
          .text(layer.displayOp, .inactive), .text(Format.shape(layer.shape), .inactive),
        ]
      }
    }
    return Table(columns: columns, rows: rows, selected: focused ? selected : nil)
      .draw(inner, context: context, focused: focused)
  }

  /// One line of the centre box: a label, the value, the value's colour.
  typealias Line = (label: String, value: String, role: ThemeColor?)

  /// The centre layer: what it is, what it costs, and what the pipeline did to it.
  private func centreLines(
    _ layer: LayerRow, graph: LayerGraph, original: [LayerRow], byName: [String: LayerRow], context: DrawContext
  ) -> [Line] {
    var lines: [Line] = [("op", layer.displayOp, nil), ("output", Format.shape(layer.shape), nil)]
    if layer.parameters > 0 {
      lines.append(
        (
          "weights",
          "\(Format.count(layer.parameters)) params, \(Format.percent(layer.sparsity, digits: 0)) zero, "
            + "\(Format.axis(layer.bits)) bits, \(ByteCount.format(layer.bytes))", nil
        ))
    } else if layer.bytes > 0 {
      lines.append(("stored", ByteCount.format(layer.bytes), nil))
    }
    lines.append(("kernel", layer.kernel, nil))
    if let share = layer.latencyShare {
      lines.append(("time", "\(Format.percent(share)) of the model's run time at batch 1", nil))
    }
    if let sqnr = layer.outputSQNR {
      lines.append(
        (
          "SQNR",
          sqnr.isFinite ? String(format: "%.1f dB: output against the original model's", sqnr) : "output unchanged",
          sqnr < 20 ? .warning : nil
        ))
    }
    guard !original.isEmpty else {
      lines.append(("changes", "no snapshot of the model as opened to compare with", .inactive))
      return lines
    }
    var changes = LayerChanges.describe(layer, original: byName[layer.name])
    for gone in LayerChanges.removed(current: graph.layers, original: original) where gone.foldedInto == layer.name {
      changes.append("node \(gone.name) folded into this layer")
    }
    if changes.isEmpty { lines.append(("changes", "none: as in the model as opened", .inactive)) }
    let mark = context.glyphs.isUnicode ? "●" : "*"
    for (index, change) in changes.enumerated() {
      lines.append((index == 0 ? "changes" : "", "\(mark) \(change)", .highlight))
    }
    return lines
  }

  private func drawCentre(_ canvas: Canvas, title: String, lines: [Line], context: DrawContext) {
    let note = history.isEmpty ? nil : "\(history.count) back"
    let inner = Panel.draw(canvas, title: title, focused: false, context: context, note: note)
    for (y, line) in lines.enumerated() where y < inner.height {
      inner.text(1, y, line.label, context.style(.graphText, .bold))
      inner.text(11, y, line.value, context.style(line.role ?? .mainForeground), ellipsis: context.glyphs.ellipsis)
    }
  }
}
