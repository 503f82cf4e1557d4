/// The Search screen's form for a new study: which search pipeline, how many trials, how many at once.
struct SearchSetupView {
  var pipelines: [String]
  var selected: Int
  var trials: Int
  var jobs: Int
  /// A study still runs: starting another is refused until it ends.
  var running: Bool

  func draw(_ canvas: Canvas, context: DrawContext) {
    let inner = Panel.draw(canvas, title: "New search", focused: true, context: context)
    guard !pipelines.isEmpty else {
      inner.text(
        1, 1, "No search pipelines found: write ranges and a search: section in a pipeline (docs/search.md).",
        context.style(.inactive), ellipsis: context.glyphs.ellipsis)
      return
    }
    var y = 0
    inner.text(1, y, "Pipeline to search (each trial runs it as its own lathe run process):", context.text)
    y += 1
    let listHeight = max(1, min(pipelines.count, inner.height - 7))
    let offset = Table.scrollOffset(selected: selected, count: pipelines.count, visible: listHeight)
    for index in offset..<min(pipelines.count, offset + listHeight) {
      let isSelected = index == selected
      let marker = isSelected ? String(context.glyphs.pointer) : " "
      inner.text(
        2, y, "\(marker) \(pipelines[index])",
        context.style(isSelected ? .highlight : .mainForeground, isSelected ? .bold : []),
        maxWidth: inner.width - 3, ellipsis: context.glyphs.ellipsis)
      y += 1
    }
    y += 1
    inner.text(1, y, "trials", context.style(.graphText, .bold))
    inner.text(9, y, "\(trials)", context.style(.highlight, .bold))
    inner.text(15, y, "+ / - to change", context.style(.inactive))
    y += 1
    inner.text(1, y, "jobs", context.style(.graphText, .bold))
    inner.text(9, y, "\(jobs)", context.style(.highlight, .bold))
    inner.text(15, y, "> / < to change: trials at once, each in its own process", context.style(.inactive))
    y += 2
    let prompt =
      running ? "A study is still running: wait for it, or esc and c to cancel it." : "enter starts the study."
    inner.text(1, y, prompt, context.style(running ? .warning : .ok), ellipsis: context.glyphs.ellipsis)
  }
}
