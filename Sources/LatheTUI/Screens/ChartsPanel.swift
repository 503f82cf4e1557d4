import LatheCompress
import LatheIO

/// The Charts panel: accuracy (perplexity for a language model), size and latency across the
/// steps done so far (step 0 is the model as opened), and accuracy against size with the
/// Pareto front.
enum ChartsPanel {
  /// (x = step number, metrics) for the baseline and every done step.
  static func history(_ state: WorkbenchState) -> [(step: Int, metrics: StepMetrics)] {
    var points: [(step: Int, metrics: StepMetrics)] = []
    if let baseline = state.baseline { points.append((0, baseline)) }
    for (index, step) in state.steps.enumerated() {
      if step.state == .done, let metrics = step.metrics { points.append((index + 1, metrics)) }
    }
    return points
  }

  static func draw(_ canvas: Canvas, state: WorkbenchState, focused: Bool, context: DrawContext) {
    let history = history(state)
    let inner = Panel.draw(canvas, title: "Charts", focused: focused, context: context, note: "x: step")
    guard !history.isEmpty else {
      inner.text(1, 1, "Charts appear once the model is measured.", context.style(.inactive))
      return
    }
    // A 2x2 grid when there is height for it, else one row of four (80x24 terminals).
    let box: LayoutBox
    if inner.height >= 12 {
      box = .column(
        [
          .row([.panel("accuracy", .weight(1)), .panel("size", .weight(1))], .weight(1)),
          .row([.panel("latency", .weight(1)), .panel("pareto", .weight(1))], .weight(1)),
        ], .weight(1))
    } else {
      box = .row(
        [
          .panel("accuracy", .weight(1)), .panel("size", .weight(1)), .panel("latency", .weight(1)),
          .panel("pareto", .weight(1)),
        ], .weight(1))
    }
    let rects = Layout.arrange(box, in: Rect(x: 0, y: 0, width: inner.width, height: inner.height))
    let ascii = !context.glyphs.isUnicode
    let xLabel: (Double) -> String = { "\(Int($0))" }
    func titled(_ name: String, _ title: String, _ role: ThemeColor) -> Canvas {
      let rect = rects[name]!
      let area = inner.sub(Rect(x: rect.x, y: rect.y, width: rect.width - 1, height: rect.height))
      area.text(0, 0, title, context.style(role, .bold), ellipsis: context.glyphs.ellipsis)
      return area.sub(Rect(x: 0, y: 1, width: area.width, height: area.height - 1))
    }
    let last = history[history.count - 1].metrics
    // A model that is not a classifier, or data without labels, is scored by its agreement with
    // the input model: the charts say which, and the first chart is the KL divergence from the
    // input model's outputs (0 for the input model itself), which says more than top-1.
    let cer = last.extra[characterErrorRate]
    let score = last.scoredAgainst != nil ? "agreement" : cer != nil ? "exact-match" : "accuracy"
    if let cer {
      // A CTC model (an OCR recogniser): lines read exactly, and the character error rate, which
      // moves before whole lines go wrong. Both are fractions; a CER can pass 1 (more edits than
      // characters), so the axis follows the data above 1.
      let exact = history.map { (Double($0.step), $0.metrics.accuracy) }
      let rates = history.map { (Double($0.step), $0.metrics.extra[characterErrorRate] ?? .nan) }
      let values = (exact + rates).map(\.1).filter(\.isFinite)
      LineChart(
        series: [.init(points: exact, color: .accuracy), .init(points: rates, color: .loss)],
        yRange: 0...max(values.max() ?? 1, 1), yLabel: { Format.percent($0) }, xLabel: xLabel
      ).draw(
        titled("accuracy", "exact " + Format.percent(last.accuracy) + " · CER " + Format.percent(cer), .accuracy),
        context: context)
    } else if let perplexity = last.extra["perplexity"] {
      // A language model: perplexity on the held-out text (lower is better), with the KL of its
      // next-token distributions from the input model's in the title.
      let points = history.map { (Double($0.step), $0.metrics.extra["perplexity"] ?? .nan) }
      let values = points.map(\.1).filter(\.isFinite)
      let (low, high) = (values.min() ?? perplexity, values.max() ?? perplexity)
      var title = String(format: "ppl %.3f", perplexity)
      if let kl = last.extra["mean_kl_with_input"] { title += " · KL " + String(format: "%.3g", kl) }
      LineChart(
        series: [.init(points: points, color: .accuracy)], yRange: (low * 0.99)...max(high * 1.01, low * 0.99 + 1e-3),
        yLabel: { String(format: "%.2f", $0) }, xLabel: xLabel
      ).draw(titled("accuracy", title, .accuracy), context: context)
    } else if last.scoredAgainst == nil {
      LineChart(
        series: [.init(points: history.map { (Double($0.step), $0.metrics.accuracy) }, color: .accuracy)],
        yRange: Axes.fractionRange(history.map(\.metrics.accuracy)), yLabel: { Format.percent($0) }, xLabel: xLabel
      ).draw(titled("accuracy", score + " " + Format.percent(last.accuracy), .accuracy), context: context)
    } else {
      let mean = history.map { (Double($0.step), klWithInput($0, "mean_kl_with_input")) }
      let p99 = history.map { (Double($0.step), klWithInput($0, "p99_kl_with_input")) }
      let values = (mean + p99).map(\.1).filter(\.isFinite)
      let kl: (Double) -> String = { $0.isNaN ? "-" : Format.axis($0) }
      var title = "KL to input " + kl(mean.last!.1) + " p99 " + kl(p99.last!.1)
      title += " · agree " + Format.percent(last.accuracy)
      // KL is never negative: the axis starts at 0 (and spans something even when all is 0).
      LineChart(
        series: [.init(points: p99, color: .loss), .init(points: mean, color: .accuracy)],
        yRange: 0...max((values.max() ?? 0) * 1.1, 1e-3), xLabel: xLabel
      ).draw(titled("accuracy", title, .accuracy), context: context)
    }
    LineChart(
      series: [.init(points: history.map { (Double($0.step), Double($0.metrics.sizeBytes)) }, color: .size)],
      yLabel: { ByteCount.format(Int($0)) }, xLabel: xLabel
    ).draw(titled("size", "size " + ByteCount.format(last.sizeBytes), .size), context: context)
    LineChart(
      series: [.init(points: history.map { (Double($0.step), $0.metrics.latencyUs.batch1P50) }, color: .latency)],
      yLabel: { Format.micros($0, ascii: ascii) }, xLabel: xLabel
    ).draw(
      titled("latency", latencyTitle(last.latencyUs, width: rects["latency"]!.width - 1, ascii: ascii), .latency),
      context: context)
    let points = history.map {
      ScatterChart.Point(size: Double($0.metrics.sizeBytes), accuracy: $0.metrics.accuracy, label: "\($0.step)")
    }
    let frontMark = String(context.glyphs.frontPoint)
    ScatterChart(points: points).draw(
      titled("pareto", "\(score) vs size (\(frontMark) Pareto)", .pareto), context: context)
  }

  /// The latency chart's title: batch 1's median, then, where `width` has room, the larger
  /// batch's, naming the batch it was timed at (chosen within a time budget: 256, or less for
  /// a slow model; the step log always names it).
  static func latencyTitle(_ latency: StepMetrics.Latency, width: Int, ascii: Bool) -> String {
    let title = "latency b1 p50 " + Format.micros(latency.batch1P50, ascii: ascii)
    guard latency.largeBatch > 1 else { return title }
    let full = title + " · b\(latency.largeBatch) " + Format.micros(latency.batch256P50, ascii: ascii)
    return CharacterWidth.of(full) <= width ? full : title
  }

  /// The `extra` key of a CTC model's character error rate (`ModelMeasurement`).
  static let characterErrorRate = "character_error_rate"

  /// A step's KL divergence from the input model (`key` in its extra); 0 for the input model,
  /// which is the reference. NaN (not drawn) when the step was not compared.
  static func klWithInput(_ point: (step: Int, metrics: StepMetrics), _ key: String) -> Double {
    point.step == 0 ? 0 : point.metrics.extra[key] ?? .nan
  }
}
