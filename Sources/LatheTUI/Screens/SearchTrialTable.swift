import LatheIO

/// The Search screen's table of trials, in `sort`'s order, with the selected trial's settings
/// (or error) on the line below. Marks: the state, `★` for the best trial, `◆` for the rest of
/// the Pareto front (the chart marks them the same), `✗` for a trial that misses a constraint
/// (its row dimmed, its check and the metric it misses in the warning colour); a trial whose
/// worker was lost reads "lost", and the trial that runs it again "retry of #N".
struct SearchTrialTable {
  var search: SearchState
  /// The trials in table order (`sort.sorted(search.trials)`).
  var rows: [SearchTrial]
  var sort: TrialSort
  var selected: Int

  init(search: SearchState, sort: TrialSort, selected: Int) {
    self.search = search
    self.sort = sort
    self.selected = selected
    rows = sort.sorted(search.trials)
  }

  func draw(_ canvas: Canvas, context: DrawContext) {
    let note = Self.legend(search, context: context)
    let inner = Panel.draw(canvas, title: "Trials", focused: true, context: context, note: note)
    guard !rows.isEmpty else {
      let waiting = search.isWatching ? "No trials in the study yet." : "Waiting for the first trial to start…"
      inner.text(1, 1, waiting, context.style(.inactive))
      return
    }
    let metrics = TrialSort.metricColumns(objectives: search.objectives)
    let table = Table(
      columns: columns(metrics: metrics, context: context),
      rows: rows.map { row($0, metrics: metrics, context: context) },
      selected: selected)
    table.draw(
      inner.sub(Rect(x: 0, y: 0, width: inner.width, height: max(0, inner.height - 1))), context: context,
      focused: true)
    guard selected < rows.count, inner.height > 2 else { return }
    let (detail, role) = Self.detail(rows[selected])
    inner.text(1, inner.height - 1, detail, context.style(role), ellipsis: context.glyphs.ellipsis)
  }

  /// What the marks mean, for the table's and the chart's frames: "★ best · ◆ Pareto front",
  /// and "✗ misses a constraint" when a trial does.
  static func legend(_ search: SearchState, context: DrawContext) -> String {
    var legend = "\(context.glyphs.best) best · \(context.glyphs.frontPoint) Pareto front"
    if search.trials.contains(where: { !$0.violations.isEmpty }) {
      legend += " · \(context.glyphs.cross) misses a constraint"
    }
    return legend
  }

  /// A trial's mark in the flag column and the chart: best, front, missed constraint or none.
  static func flag(_ trial: SearchTrial, in search: SearchState, context: DrawContext) -> (String, ThemeColor) {
    if search.front.first == trial.number { return (String(context.glyphs.best), .pareto) }
    if search.front.contains(trial.number) { return (String(context.glyphs.frontPoint), .pareto) }
    if !trial.violations.isEmpty { return (String(context.glyphs.cross), .warning) }
    return ("", .inactive)
  }

  private func columns(metrics: [String], context: DrawContext) -> [TableColumn] {
    func titled(_ title: String, _ column: TrialSort.Column) -> String {
      guard sort.column == column else { return title }
      return title + String(sort.descending ? context.glyphs.sortDown : context.glyphs.sortUp)
    }
    var columns = [
      TableColumn("", .fixed(1)), TableColumn("", .fixed(1)), TableColumn(titled("#", .number), .fixed(3), .right),
      TableColumn(titled("state", .state), .fixed(8)), TableColumn("settings", .weight(1)),
    ]
    for metric in metrics {
      let (title, width) = Self.metricTitle(metric)
      columns.append(TableColumn(titled(title, .metric(metric)), .fixed(width), .right))
    }
    columns.append(TableColumn(titled("time", .seconds), .fixed(6), .right))
    columns.append(TableColumn(titled("host", .host), .fixed(8)))
    return columns
  }

  private func row(_ trial: SearchTrial, metrics: [String], context: DrawContext) -> [TableCell] {
    let misses = !trial.violations.isEmpty
    let role = trial.isLost ? ThemeColor.warning : misses ? .warning : Self.role(trial.state)
    let missed = Set(trial.violations.compactMap { $0.split(separator: " ").first.map(String.init) })
    let (flag, flagRole) = Self.flag(trial, in: search, context: context)
    let settings = SearchStudyView.shortSettings(trial.settings)
    var cells: [TableCell] = [
      .text(String(mark(trial.state, context: context)), role), .text(flag, flagRole),
      .text("\(trial.number)", .inactive), .text(trial.isLost ? "lost" : trial.state.rawValue, role),
      .text(trial.retryOf.map { "retry of #\($0) \(settings)" } ?? settings, .inactive),
    ]
    for metric in metrics {
      let text = trial.metric(metric).map { Self.format($0, metric: metric, ascii: !context.glyphs.isUnicode) } ?? "-"
      cells.append(.text(text, missed.contains(metric) ? .warning : misses ? .inactive : nil))
    }
    cells.append(.text(trial.seconds.map(SearchStudyView.seconds) ?? "-", misses ? .inactive : nil))
    cells.append(.text(trial.shortHost, .inactive))
    return cells
  }

  /// The line under the table: why a trial failed, else which constraints it misses, what it
  /// runs again, and its settings in full.
  static func detail(_ trial: SearchTrial) -> (String, ThemeColor) {
    if let error = trial.error { return ("trial \(trial.number): \(error)", trial.isLost ? .warning : .error) }
    var parts: [String] = []
    if !trial.violations.isEmpty { parts.append("misses " + trial.violations.joined(separator: ", ")) }
    if let retried = trial.retryOf { parts.append("retry of #\(retried)") }
    parts.append(trial.settings.map { "\($0.name) \($0.value)" }.joined(separator: ", "))
    return (
      "trial \(trial.number): " + parts.joined(separator: " · "), trial.violations.isEmpty ? .graphText : .warning
    )
  }

  /// A metric column's title and width.
  static func metricTitle(_ metric: String) -> (String, Int) {
    switch metric {
    case "accuracy": return ("acc", 6)
    case "size_bytes": return ("size", 8)
    case "latency_b1": return ("b1 p50", 7)
    default: return (metric, 8)
    }
  }

  /// A metric as the table and the charts show it: accuracy in percent, sizes in bytes,
  /// latencies in microseconds, anything else as a plain number.
  static func format(_ value: Double, metric: String, ascii: Bool) -> String {
    guard value.isFinite else { return value.isNaN ? "nan" : value > 0 ? "inf" : "-inf" }
    switch metric {
    case "accuracy": return Format.percent(value)
    case "size_bytes": return ByteCount.format(Int(value))
    case let name where name.hasPrefix("latency"): return Format.micros(value, ascii: ascii)
    default: return Format.axis(value)
    }
  }

  private func mark(_ state: SearchTrial.State, context: DrawContext) -> Unicode.Scalar {
    switch state {
    case .running: return context.spinner
    case .complete: return context.glyphs.check
    case .pruned: return context.glyphs.pendingMark
    case .failed: return context.glyphs.cross
    }
  }

  static func role(_ state: SearchTrial.State) -> ThemeColor {
    switch state {
    case .running: return .running
    case .complete: return .ok
    case .pruned: return .inactive
    case .failed: return .error
    }
  }
}
