import LatheIO

/// The Search screen while a study runs or after it ended: what it searches, its trials, the
/// best-so-far curve, accuracy against size or latency, and which settings matter.
struct SearchStudyView {
  var search: SearchState
  /// The selected row of the table, in `sort`'s order.
  var selected: Int
  var axis: SearchScreen.Axis
  var sort = TrialSort()

  func draw(_ canvas: Canvas, context: DrawContext) {
    let box: LayoutBox
    if canvas.width >= 120 {
      let charts = LayoutBox.column(
        [.panel("best", .weight(1)), .panel("pareto", .weight(1)), .panel("importance", .fixed(7))], .weight(2))
      box = .column(
        [.panel("summary", .fixed(4)), .row([.panel("trials", .weight(3)), charts], .weight(1))], .weight(1))
    } else {
      box = .column(
        [
          .panel("summary", .fixed(4)), .panel("trials", .weight(1)),
          .row([.panel("best", .weight(1)), .panel("pareto", .weight(1))], .weight(1)),
        ], .weight(1))
    }
    let rects = Layout.arrange(box, in: Rect(x: 0, y: 0, width: canvas.width, height: canvas.height))
    drawSummary(canvas.sub(rects["summary"]!), context: context)
    drawTrials(canvas.sub(rects["trials"]!), context: context)
    drawBestSoFar(canvas.sub(rects["best"]!), context: context)
    drawPareto(canvas.sub(rects["pareto"]!), context: context)
    if let rect = rects["importance"] { drawImportance(canvas.sub(rect), context: context) }
  }

  // MARK: summary

  private func drawSummary(_ canvas: Canvas, context: DrawContext) {
    let status =
      search.isWatching ? "watching" : search.isRunning ? "running" : search.error != nil ? "failed" : "ended"
    let inner = Panel.draw(
      canvas, title: "Search · \(search.pipelineName)", focused: false, context: context, note: status)
    var parts = [search.sampler] + search.objectives + search.constraints
    parts.append("\(search.finishedCount)/\(search.totalTrials) finished")
    if search.runningCount > 0 { parts.append("\(search.runningCount) running") }
    if search.isWatching {
      let hosts = Set(search.trials.compactMap(\.host)).count
      parts.append(Wording.count(hosts, "host"))
    } else {
      parts.append("\(search.jobs) at once")
    }
    inner.text(1, 0, parts.joined(separator: " · "), context.text, ellipsis: context.glyphs.ellipsis)
    if let error = search.error {
      inner.text(1, 1, error, context.style(.error), ellipsis: context.glyphs.ellipsis)
    } else {
      // The command that opens the study in Optuna's own dashboard, or where a journal is.
      let line = search.dashboardURL.map { "optuna-dashboard \($0)" } ?? "study \(search.storage)"
      inner.text(1, 1, line, context.style(.inactive), ellipsis: context.glyphs.ellipsis)
    }
  }

  // MARK: trials

  private func drawTrials(_ canvas: Canvas, context: DrawContext) {
    SearchTrialTable(search: search, sort: sort, selected: selected).draw(canvas, context: context)
  }

  /// Tenths under ten seconds (small models' trials take moments), then as `Format.duration`.
  static func seconds(_ value: Double) -> String {
    value < 9.95 ? String(format: "%.1fs", value) : Format.duration(value)
  }

  /// "fc1 0.73 fc2 0.91": each setting by the last part of its name.
  static func shortSettings(_ settings: [(name: String, value: String)]) -> String {
    settings.map { "\($0.name.split(separator: ".").last ?? "") \($0.value)" }.joined(separator: " ")
  }

  // MARK: charts

  /// The first objective's metric ("size_bytes" of "minimize size_bytes").
  private var metric: String { search.objectives.first?.split(separator: " ").last.map(String.init) ?? "" }

  private func label(_ value: Double, ascii: Bool) -> String {
    SearchTrialTable.format(value, metric: metric, ascii: ascii)
  }

  private func drawBestSoFar(_ canvas: Canvas, context: DrawContext) {
    let ascii = !context.glyphs.isUnicode
    // The front is ordered by the first objective: its first trial is the best one.
    var best = search.bestSoFar.last.map { ": " + label($0.value, ascii: ascii) } ?? ""
    if let trial = search.front.first, !best.isEmpty { best += " (trial \(trial))" }
    let inner = Panel.draw(
      canvas, title: "Best so far\(best)", focused: false, context: context, note: search.objectives.first)
    let color: ThemeColor = metric == "accuracy" ? .accuracy : metric.hasPrefix("latency") ? .latency : .size
    // x: trials finished, in the order they finished.
    let points = search.bestSoFar.enumerated().map { (Double($0.offset + 1), $0.element.value) }
    LineChart(series: [.init(points: points, color: color)], yLabel: { label($0, ascii: ascii) })
      .draw(inner, context: context)
  }

  private func drawPareto(_ canvas: Canvas, context: DrawContext) {
    let ascii = !context.glyphs.isUnicode
    let axisName = axis == .size ? "size" : "latency"
    let glyphs = context.glyphs
    let inner = Panel.draw(
      canvas, title: "Accuracy vs \(axisName) (\(glyphs.best) best \(glyphs.frontPoint) front)", focused: false,
      context: context, note: "x: \(axis == .size ? "latency" : "size")")
    let shown = search.trials.compactMap { trial -> (SearchTrial, ScatterChart.Point)? in
      guard trial.state == .complete, let accuracy = trial.accuracy else { return nil }
      let x = axis == .size ? trial.sizeBytes.map(Double.init) : trial.latencyB1
      return x.map {
        (
          trial,
          ScatterChart.Point(
            size: $0, accuracy: accuracy, label: "\(trial.number)", missesConstraint: !trial.violations.isEmpty)
        )
      }
    }
    // The study's front, best first, as the table marks it (on either axis).
    let front = search.front.compactMap { number in shown.firstIndex { $0.0.number == number } }
    let xLabel: (Double) -> String =
      axis == .size ? { ByteCount.format(Int($0)) } : { Format.micros($0, ascii: ascii) }
    ScatterChart(points: shown.map(\.1), xLabel: xLabel, front: front).draw(inner, context: context)
  }

  private func drawImportance(_ canvas: Canvas, context: DrawContext) {
    let inner = Panel.draw(canvas, title: "Which settings matter", focused: false, context: context)
    let complete = search.trials.filter { $0.state == .complete }.count
    guard complete >= 8, !search.importance.isEmpty else {
      inner.text(1, 0, "Shown after 8 complete trials (\(complete) so far).", context.style(.inactive))
      return
    }
    let rows: [[TableCell]] = search.importance.map { item in
      [.text(item.name), .bar(item.share, Format.fit(Format.percent(item.share, digits: 0), 4, right: true))]
    }
    Table(columns: [TableColumn("setting", .weight(1)), TableColumn("share", .fixed(16))], rows: rows)
      .draw(inner, context: context, focused: false)
  }
}
