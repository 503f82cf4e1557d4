/// The tutorial's column beside whatever screen is open: the step's text, the action asked
/// for, whether it is done, the hints earned, and the keys to go on, back or leave.
enum TutorialPanel {
  /// Columns the panel takes at this terminal width (the screen keeps the rest).
  static func width(forTerminal width: Int) -> Int {
    width >= 150 ? 46 : width >= 110 ? 40 : 32
  }

  static func draw(_ canvas: Canvas, run: TutorialRun, context: DrawContext) {
    let tutorial = run.tutorial
    let total = tutorial.steps.count
    let note = run.isFinished ? "summary" : "step \(run.index + 1) of \(total)"
    let inner = Panel.draw(canvas, title: "Tutorial", focused: true, context: context, note: note)
    let width = inner.width - 2
    var y = 0
    func put(_ text: String, _ style: Style, indent: Int = 1) {
      for line in TextWrap.lines(text, width: width - indent + 1) {
        guard y < inner.height - 2 else { return }
        inner.text(indent, y, line, style)
        y += 1
      }
    }
    put(tutorial.title, context.style(.title, .bold))
    let fraction = total == 0 ? 1 : Double(run.index) / Double(total)
    Bar.draw(
      inner, x: 1, y: y, width: width, fraction: fraction, fill: context.style(.ok),
      empty: context.theme.style(.inactive, on: .meterBackground), glyphs: context.glyphs)
    y += 2
    if let error = run.openError {
      put("Could not open the tutorial's files: \(error)", context.style(.error, .bold))
      y += 1
      put("The workbench is as it was. Press X to leave the tutorial, or T to pick another.", context.text)
    } else if let step = run.step {
      if let resumed = run.resumedAt, resumed == run.index, resumed > 0 {
        put(
          "Resumed here. Runs from your last visit are not kept: numbers from them show as …", context.style(.inactive))
        y += 1
      }
      put(run.fill(step.text), context.text)
      y += 1
      if let action = step.action, !run.isMet || step.checks.isEmpty {
        put("Do: \(run.fill(action))", context.style(.highlight, .bold))
        y += 1
      }
      switch run.outcome {
      case _ where step.checks.isEmpty:
        break
      case .met:
        put("\(String(context.glyphs.check)) Done.", context.style(.ok, .bold))
        if let done = step.done { put(run.fill(done), context.text) }
        y += 1
      case .blocked(let reason):
        put("\(String(context.glyphs.cross)) \(reason)", context.style(.error, .bold))
        y += 1
      case .waiting(let reason):
        if !reason.isEmpty {
          put("Waiting: \(reason).", context.style(.inactive))
          y += 1
        }
      }
      for (number, hint) in run.visibleHints.enumerated() {
        put("Hint \(number + 1): \(run.fill(hint))", context.style(.warning))
      }
    } else {
      put("Summary", context.style(.title, .bold))
      put(run.fill(tutorial.closing), context.text)
    }
    let keys: [(key: String, label: String)] =
      run.isFinished ? [("[", "back"), ("X", "close"), ("T", "list")] : [("]", "on"), ("[", "back"), ("X", "leave")]
    var x = 1
    for (key, label) in keys {
      x = inner.text(x, inner.height - 1, key, context.style(.highlight, .bold))
      x = inner.text(x + 1, inner.height - 1, label, context.text) + 2
    }
  }
}
