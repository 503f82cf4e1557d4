import LatheIO

/// The workbench's Model panel: the layer table of a graph of any size. Layers are grouped
/// into blocks by name (`/model.10/*`) that fold and unfold, `/` filters by name or op as the
/// user types (lazygit, k9s), `S` cycles the sort, and the selection follows its row through
/// all of these. The rows come from `LayerList`; this class keeps the UI state and draws.
final class ModelPanel {
  /// The filter text; applied while typed and kept after enter.
  private(set) var filter = TextField()
  /// True while `/` has the keyboard: letters go to the filter, not to commands.
  private(set) var isTypingFilter = false
  private(set) var sort: LayerSort = .graph
  /// Prefixes of the folded blocks.
  private(set) var folded: Set<String> = []
  /// Index of the selected row in `rows`.
  private(set) var selectedRow = 0
  /// The selected row's identity (`LayerListRow.identity`), so the selection stays on its
  /// layer or block when rows above it appear or go.
  private var selection: String?
  /// The rows as of the last `refresh`, and the layers they index.
  private(set) var rows: [LayerListRow] = []
  private(set) var layers: [LayerRow] = []
  /// Blocks depend only on the layer names: worked out again when the names change.
  private var blocks: (names: [String], blocks: [LayerBlock]) = ([], [])
  /// The int8 KL by layer from the last sensitivity step, for that sort.
  private var sensitivity: [String: Double] = [:]
  /// The first row on screen and where the rows start, from the last frame, for clicks.
  private var offset = 0
  private var firstRowY = 0

  /// Rows from the session's current model with the panel's filter, sort and folds; keeps the
  /// selection on the same row when it is still there. Called before every key and frame.
  func refresh(_ state: WorkbenchState) {
    layers = state.model?.layers ?? []
    let names = layers.map(\.name)
    if names != blocks.names { blocks = (names, LayerBlock.blocks(of: layers)) }
    sensitivity = Self.int8Sensitivity(state)
    arrange()
  }

  /// The rows from the layers already read, after the filter, sort or folds changed.
  private func arrange() {
    rows = LayerList.rows(
      layers, blocks: blocks.blocks, filter: filter.text, sort: sort, folded: folded, sensitivity: sensitivity)
    if let selection, let index = rows.firstIndex(where: { $0.identity(in: layers) == selection }) {
      selectedRow = index
    } else {
      select(min(selectedRow, rows.count - 1))
    }
  }

  /// The layer the selection is on: the row's layer, or a block's first shown layer.
  var selectedLayer: Int? {
    guard selectedRow >= 0, selectedRow < rows.count else { return nil }
    switch rows[selectedRow] {
    case .layer(let index, _): return index
    case .block(_, let shown, _): return shown.first
    }
  }

  private func select(_ row: Int) {
    selectedRow = max(0, row)
    selection = selectedRow < rows.count ? rows[selectedRow].identity(in: layers) : nil
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

  // MARK: keys

  /// The panel's keys while it has focus and no filter is being typed; the workbench adds them
  /// to its own list.
  var bindings: [KeyBinding] {
    func act(_ body: @escaping (Key, WorkbenchApp) -> Void) -> (Key, WorkbenchApp) -> ScreenAction {
      { key, app in
        self.refresh(app.state)
        body(key, app)
        self.arrange()
        return .handled
      }
    }
    var list = [
      KeyBinding(
        [Key("/")], hint: ("/", "filter"), help: ("/", "filter layers by name or op"),
        action: act { _, _ in self.isTypingFilter = true }),
      KeyBinding(
        [Key("g"), Key("G"), .home, .end], help: ("g G / home end", "first / last layer"),
        action: act { key, _ in self.select(key == Key("g") || key == .home ? 0 : self.rows.count - 1) }),
      KeyBinding(
        [Key(" "), Key("h"), Key("l"), .left, .right, Key("-"), Key("=")],
        help: ("space h l / - =", "fold a block / all blocks")
      ) { key, app in
        self.refresh(app.state)
        if key == Key("-") || key == Key("=") { self.foldAll(key == Key("-")) } else { self.fold(key) }
        return .handled
      },
      KeyBinding(
        [Key("S")], help: ("S", "sort: bytes, time, KL, SQNR"),
        action: act { _, _ in self.sort = self.sort.next }),
      KeyBinding([Key("i")], help: ("i", "graph view of the layer")) { _, app in
        self.refresh(app.state)
        guard let index = self.selectedLayer else { return .handled }
        return .open(GraphScreen(layer: self.layers[index].name))
      },
    ]
    if !filter.text.isEmpty {
      list.insert(
        KeyBinding([.escape], hint: ("esc", "clear filter"), action: act { _, _ in self.filter = TextField() }), at: 1)
    }
    return list
  }

  /// The keys while the filter is typed: every other key edits it.
  static var typingBindings: [KeyBinding] {
    [
      KeyBinding([.enter], hint: ("enter", "keep filter")), KeyBinding([.escape], hint: ("esc", "clear filter")),
      KeyBinding([.up, .down, .pageUp, .pageDown], hint: ("up/down", "layer")),
    ]
  }

  /// A key while the filter is typed: enter keeps the filter, esc drops it, arrows move.
  func handleTyping(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    refresh(app.state)
    switch key {
    case .enter:
      isTypingFilter = false
    case .escape:
      filter = TextField()
      isTypingFilter = false
    case .up, .down, .pageUp, .pageDown:
      move(key.verticalStep ?? 0)
    default:
      guard filter.handle(key) else { return .handled }
      // A new filter starts at the first match, as in lazygit.
      refresh(app.state)
      select(0)
    }
    refresh(app.state)
    return .handled
  }

  func move(_ step: Int) {
    select(max(0, min(rows.count - 1, selectedRow + step)))
  }

  /// space toggles the block under the selection; h and left fold it (from a layer inside it
  /// too, moving to its row), l and right unfold it.
  private func fold(_ key: Key) {
    guard selectedRow < rows.count else { return }
    let prefix: String
    switch rows[selectedRow] {
    case .block(let block, _, _):
      prefix = block.prefix
    case .layer(let index, let inBlock):
      guard inBlock, key != Key("l"), key != .right,
        let block = blocks.blocks.first(where: { $0.members.contains(index) })
      else { return }
      prefix = block.prefix
    }
    let fold: Bool
    switch key {
    case Key("h"), .left: fold = true
    case Key("l"), .right: fold = false
    default: fold = !folded.contains(prefix)
    }
    if fold { folded.insert(prefix) } else { folded.remove(prefix) }
    selection = "block " + prefix
    arrange()
  }

  private func foldAll(_ fold: Bool) {
    if fold {
      folded = Set(blocks.blocks.map(\.prefix))
      // The selection moves up to its block's row.
      if selectedRow < rows.count, case .layer(let index, true) = rows[selectedRow],
        let block = blocks.blocks.first(where: { $0.members.contains(index) })
      {
        selection = "block " + block.prefix
      }
    } else {
      folded = []
    }
    arrange()
  }

  /// Whether a click at panel-relative row `y` (0 the border) hit a row, and which.
  func row(atPanelY y: Int) -> Int? {
    let index = offset + y - firstRowY
    return y >= firstRowY && index >= 0 && index < rows.count ? index : nil
  }

  /// Selects a clicked row; true when it was already selected (a second click opens it).
  func click(row: Int) -> Bool {
    if row == selectedRow { return true }
    select(row)
    return false
  }

  /// The selected block's prefix when the selection is on a group row.
  var selectedBlock: String? {
    guard selectedRow < rows.count, case .block(let block, _, _) = rows[selectedRow] else { return nil }
    return block.prefix
  }

  /// Toggles the selected block (enter on a group row).
  func toggleSelectedBlock() { fold(Key(" ")) }

  // MARK: drawing

  func draw(_ canvas: Canvas, app: WorkbenchApp, focused: Bool) {
    let context = app.context
    refresh(app.state)
    guard let model = app.state.model else {
      let inner = Panel.draw(canvas, title: "Model", focused: focused, context: context)
      inner.text(1, 1, "No model open. Press o to open a .safetensors or .onnx file.", context.style(.inactive))
      return
    }
    var title = "Model · \(model.name)"
    if sort != .graph { title += " · by \(sort.label) \(context.glyphs.sortDown)" }
    let showFilter = isTypingFilter || !filter.text.isEmpty
    // Space left for rows: the panel less its border, the header, the footer and the filter line.
    let visible = max(0, canvas.height - 2 - Table.headerHeight - 1 - (showFilter ? 1 : 0))
    var note = Wording.count(model.layers.count, "layer")
    if rows.count > visible { note = "\(selectedRow + 1)/\(rows.count) · " + note }
    let inner = Panel.draw(canvas, title: title, focused: focused, context: context, note: note)
    if showFilter { drawFilterLine(inner, context: context) }
    let tableCanvas = inner.sub(
      Rect(x: 0, y: showFilter ? 1 : 0, width: inner.width, height: inner.height - (showFilter ? 1 : 0)))
    firstRowY = 1 + (showFilter ? 1 : 0) + Table.headerHeight
    offset = Table.scrollOffset(selected: selectedRow, count: rows.count, visible: visible)
    let columns = ModelColumns(layers: layers, width: inner.width, sensitivity: sensitivity)
    let shown = rows[min(offset, rows.count)..<min(rows.count, offset + visible)]
    let table = Table(
      columns: columns.columns, rows: shown.map { columns.cells($0, layers: layers, context: context) },
      footer: columns.footer(model.totals), selected: selectedRow - offset)
    table.draw(tableCanvas, context: context, focused: focused)
    if rows.isEmpty, !filter.text.isEmpty {
      tableCanvas.text(
        1, Table.headerHeight, "No layer matches \"\(filter.text)\"; esc clears the filter.", context.style(.inactive),
        ellipsis: context.glyphs.ellipsis)
    }
    if rows.count > visible {
      drawScrollbar(canvas, visible: visible, top: firstRowY, focused: focused, context: context)
    }
  }

  /// "/ conv█  12 of 512 layers match" while typing; the kept filter without the cursor after.
  private func drawFilterLine(_ canvas: Canvas, context: DrawContext) {
    let matching = layers.filter { LayerList.matches($0, filter: filter.text) }.count
    let count = " \(matching) of \(Wording.count(layers.count, "layer")) match"
    canvas.text(0, 0, "/", context.style(.highlight, .bold))
    let width = max(4, min(32, canvas.width - 2 - CharacterWidth.of(count)))
    if isTypingFilter {
      filter.draw(canvas, x: 2, y: 0, width: width, context: context)
    } else {
      canvas.text(2, 0, filter.text, context.style(.highlight), maxWidth: width, ellipsis: context.glyphs.ellipsis)
    }
    canvas.text(2 + width + 1, 0, count, context.style(.inactive), ellipsis: context.glyphs.ellipsis)
  }

  /// A thumb on the panel's right border: where the visible rows sit in the whole list.
  private func drawScrollbar(_ canvas: Canvas, visible: Int, top: Int, focused: Bool, context: DrawContext) {
    guard visible > 0, !rows.isEmpty else { return }
    let size = max(1, visible * visible / rows.count)
    let start = top + (visible - size) * offset / max(1, rows.count - visible)
    let thumb: Unicode.Scalar = context.glyphs.isUnicode ? "█" : "@"
    for y in start..<min(top + visible, start + size) {
      canvas.put(canvas.width - 1, y, thumb, context.style(focused ? .focusBorder : .border))
    }
  }
}

/// The layer table's columns for one width: which show, and each row's cells.
struct ModelColumns {
  let wide: Bool
  let opWidth: Int
  let showTime: Bool
  let showError: Bool
  let sensitivity: [String: Double]
  /// Int8 KL at or above this is among the three worst and highlighted.
  let worst: Double
  let columns: [TableColumn]

  init(layers: [LayerRow], width: Int, sensitivity: [String: Double]) {
    wide = width >= 80
    // "linear+relu" needs more room than the usual op.
    opWidth = layers.contains { $0.foldedActivation != nil } ? 11 : 8
    showTime = layers.contains { $0.latencyShare != nil }
    showError = layers.contains { $0.outputSQNR != nil }
    self.sensitivity = sensitivity
    worst = sensitivity.values.sorted(by: >).prefix(3).last ?? .infinity
    var columns = [TableColumn("layer", .weight(2)), TableColumn("op", .fixed(opWidth))]
    if wide { columns.append(TableColumn("shape", .fixed(12))) }
    columns += [
      TableColumn("params", .fixed(7), .right), TableColumn("sparsity", .fixed(12)),
      TableColumn("bits", .fixed(4), .right), TableColumn("bytes", .fixed(8), .right),
    ]
    if showTime { columns.append(TableColumn("time", .fixed(5), .right)) }
    if showError { columns.append(TableColumn("SQNR", .fixed(5), .right)) }
    if wide { columns.append(TableColumn("kernel", .weight(1))) }
    if !sensitivity.isEmpty { columns.append(TableColumn("int8 KL", .fixed(8), .right)) }
    self.columns = columns
  }

  func cells(_ row: LayerListRow, layers: [LayerRow], context: DrawContext) -> [TableCell] {
    switch row {
    case .layer(let index, let inBlock):
      return cells(layers[index], inBlock: inBlock, context: context)
    case .block(let block, let shown, let folded):
      return cells(block, shown: shown.count, folded: folded, layers: layers, context: context)
    }
  }

  private func cells(_ layer: LayerRow, inBlock: Bool, context: DrawContext) -> [TableCell] {
    // Inside a block the prefix is on the group row above; the row shows the rest of the name.
    let name = inBlock ? "  " + String(layer.name.dropFirst(LayerBlock.prefix(of: layer.name)?.count ?? 0)) : layer.name
    var cells: [TableCell] = [
      .text(name), .text(layer.displayOp, layer.foldedActivation == nil ? .inactive : .highlight),
    ]
    if wide { cells.append(.text(Format.shape(layer.shape), .inactive)) }
    cells += [
      .text(Format.count(layer.parameters)),
      layer.parameters == 0
        ? .text("-", .inactive)
        : .bar(layer.sparsity, Format.fit(Format.percent(layer.sparsity, digits: 0), 4, right: true)),
      .text(layer.parameters == 0 ? "-" : Format.axis(layer.bits), layer.bits < 32 ? .highlight : nil),
      .text(ByteCount.format(layer.bytes)),
    ]
    if showTime { cells.append(Self.share(layer.latencyShare)) }
    if showError { cells.append(Self.sqnr(layer.outputSQNR, context: context)) }
    if wide { cells.append(.text(layer.kernel, .inactive)) }
    if !sensitivity.isEmpty {
      cells.append(
        sensitivity[layer.name].map { .text(Format.axis($0), $0 >= worst ? .highlight : .inactive) } ?? .text("-"))
    }
    return cells
  }

  /// A group row: the block's sums (sizes, times), its worst error and sensitivity.
  private func cells(_ block: LayerBlock, shown: Int, folded: Bool, layers: [LayerRow], context: DrawContext)
    -> [TableCell]
  {
    let members = block.members.map { layers[$0] }
    let unicode = context.glyphs.isUnicode
    let mark = folded ? (unicode ? "▸" : "+") : (unicode ? "▾" : "-")
    let count = shown == members.count ? "\(members.count)" : "\(shown)/\(members.count)"
    let parameters = members.reduce(0) { $0 + $1.parameters }
    let nonzeros = members.reduce(0.0) { $0 + Double($1.parameters) * (1 - $1.sparsity) }
    let sparsity = parameters == 0 ? 0 : 1 - nonzeros / Double(parameters)
    var cells: [TableCell] = [.text("\(mark) \(block.title) (\(count))", .title), .text("")]
    if wide { cells.append(.text("")) }
    cells += [
      .text(Format.count(parameters)),
      parameters == 0
        ? .text("-", .inactive) : .bar(sparsity, Format.fit(Format.percent(sparsity, digits: 0), 4, right: true)),
      .text(""),
      .text(ByteCount.format(members.reduce(0) { $0 + $1.bytes })),
    ]
    if showTime {
      let shares = members.compactMap(\.latencyShare)
      cells.append(Self.share(shares.isEmpty ? nil : shares.reduce(0, +)))
    }
    if showError { cells.append(Self.sqnr(members.compactMap(\.outputSQNR).min(), context: context)) }
    if wide { cells.append(.text("")) }
    if !sensitivity.isEmpty {
      let worstMember = members.compactMap { sensitivity[$0.name] }.max()
      cells.append(worstMember.map { .text(Format.axis($0), $0 >= worst ? .highlight : .inactive) } ?? .text("-"))
    }
    return cells
  }

  func footer(_ totals: ModelTotals) -> [TableCell] {
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
    if showTime { footer.append(.text("")) }
    if showError { footer.append(.text("")) }
    if wide { footer.append(.text("")) }
    if !sensitivity.isEmpty { footer.append(.text("")) }
    return footer
  }

  /// "12%", "0.4%", or "-" when not measured; a layer taking a tenth of the time or more stands out.
  static func share(_ share: Double?) -> TableCell {
    guard let share else { return .text("-", .inactive) }
    return .text(Format.percent(share, digits: share < 0.1 ? 1 : 0), share >= 0.1 ? .highlight : .inactive)
  }

  /// The output's SQNR in dB: "41", "∞" when unchanged; below 20 dB is far from the original.
  static func sqnr(_ decibels: Double?, context: DrawContext) -> TableCell {
    guard let decibels else { return .text("-", .inactive) }
    guard decibels.isFinite else { return .text(context.glyphs.isUnicode ? "∞" : "inf", .inactive) }
    return .text(String(format: "%.0f", decibels), decibels < 20 ? .warning : nil)
  }
}
