/// `?`: every key, in a box over the current screen. Any key closes it.
enum HelpOverlay {
  /// Made from the screens' own binding lists, so help cannot list a key a screen lacks.
  static var sections: [(title: String, keys: [(String, String)])] {
    let lists: [(String, [KeyBinding])] = [
      ("Everywhere", WorkbenchApp.globalBindings), ("Workbench", HomeScreen().bindings),
      ("Step editor", StepEditorScreen.helpBindings), ("Compare", CompareScreen.keyBindings),
      ("Search", SearchScreen.setupBindings + SearchScreen.studyBindings(axis: .size)),
      ("Tutorial", WorkbenchApp.tutorialBindings), ("Open", OpenScreen.browsingBindings),
      ("Graph", GraphScreen(layer: "").bindings),
    ]
    return lists.map { title, bindings in (title, bindings.compactMap { $0.help.map { ($0.key, $0.text) } }) }
  }

  /// The global and workbench keys on the left, the other screens to the right: in one column
  /// when narrow, in two when the terminal is wide enough for three columns of 48.
  static func draw(_ canvas: Canvas, app: WorkbenchApp) {
    let context = app.context
    let all = sections
    let others = Array(all.dropFirst(2))
    let columns =
      canvas.width >= 148
      ? [Array(all.prefix(2)), Array(others.prefix(3)), Array(others.dropFirst(3))]
      : [Array(all.prefix(2)), others]
    func lines(_ part: [(title: String, keys: [(String, String)])]) -> Int {
      part.reduce(0) { $0 + $1.keys.count + 2 } - 1
    }
    let height = min(canvas.height - 2, (columns.map(lines).max() ?? 0) + 2)
    let width = min(canvas.width - 4, 48 * columns.count)
    let box = canvas.sub(
      Rect(x: (canvas.width - width) / 2, y: (canvas.height - height) / 2, width: width, height: height))
    let inner = Panel.draw(box, title: "Keys", focused: true, context: context, note: "any key closes")
    let columnWidth = inner.width / columns.count
    for (index, column) in columns.enumerated() {
      let x = index * columnWidth
      let width = index == columns.count - 1 ? inner.width - x : columnWidth
      drawColumn(inner.sub(Rect(x: x, y: 0, width: width, height: inner.height)), column, context: context)
    }
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
