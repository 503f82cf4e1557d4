/// `?`: every key, in a box over the current screen. Any key closes it.
enum HelpOverlay {
  static let sections: [(title: String, keys: [(String, String)])] = [
    (
      "Everywhere",
      [
        ("?", "this help"), ("q", "quit (Ctrl-C too)"), ("t", "next theme"), ("esc", "back"),
        ("T", "tutorials"), ("w / W", "save model / pipeline"),
      ]
    ),
    (
      "Workbench",
      [
        ("tab / shift-tab", "next / previous panel"), ("j k / arrows", "move"), ("enter", "open layer or step"),
        ("n", "run next step"), ("a", "run all remaining steps"), ("c", "cancel running step"),
        ("u", "undo: back to previous snapshot"), ("e", "edit pipeline"), ("o", "open model"),
        ("v", "compare snapshots"), ("m", "training monitor"), ("s", "search a pipeline's settings"),
        ("mouse", "click panel / row"),
      ]
    ),
    (
      "Step editor",
      [
        ("a / d", "add / delete step"), ("J / K", "move step down / up"), ("tab", "list / form"),
        ("enter", "edit field"), ("s", "apply to session"), ("w", "write pipeline file"),
      ]
    ),
    ("Compare", [("h l", "change right snapshot"), ("H L", "change left snapshot")]),
    (
      "Search",
      [
        ("+ - / < >", "trials / jobs of a new study"), ("enter", "start; open the trial"),
        ("x", "accuracy vs size or latency"), ("c", "cancel the study"), ("n", "new study"),
      ]
    ),
    ("Tutorial", [("] / [", "next / previous step"), ("X", "leave the tutorial")]),
    ("Open", [("enter", "open folder / pick file"), ("backspace", "parent folder")]),
  ]

  /// Two columns: the global and workbench keys on the left, the other screens on the right.
  static func draw(_ canvas: Canvas, app: WorkbenchApp) {
    let context = app.context
    let left = Array(sections.prefix(2))
    let right = Array(sections.dropFirst(2))
    func lines(_ part: [(title: String, keys: [(String, String)])]) -> Int {
      part.reduce(0) { $0 + $1.keys.count + 2 } - 1
    }
    let height = min(canvas.height - 2, max(lines(left), lines(right)) + 2)
    let width = min(canvas.width - 4, 96)
    let box = canvas.sub(
      Rect(x: (canvas.width - width) / 2, y: (canvas.height - height) / 2, width: width, height: height))
    let inner = Panel.draw(box, title: "Keys", focused: true, context: context, note: "any key closes")
    let half = inner.width / 2
    drawColumn(inner.sub(Rect(x: 0, y: 0, width: half, height: inner.height)), left, context: context)
    drawColumn(inner.sub(Rect(x: half, y: 0, width: inner.width - half, height: inner.height)), right, context: context)
  }

  private static func drawColumn(
    _ canvas: Canvas, _ part: [(title: String, keys: [(String, String)])], context: DrawContext
  ) {
    var y = 0
    for section in part {
      guard y < canvas.height else { break }
      canvas.text(1, y, section.title, context.style(.title, .bold))
      y += 1
      for (key, label) in section.keys where y < canvas.height {
        canvas.text(2, y, key, context.style(.highlight, .bold))
        canvas.text(18, y, label, context.text, ellipsis: context.glyphs.ellipsis)
        y += 1
      }
      y += 1
    }
  }
}
