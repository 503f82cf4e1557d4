/// `?`: every key, in a box over the current screen. When the box is taller than the terminal,
/// j/k, the arrows and PgUp/PgDn scroll it; any other key closes it.
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
    let tallest = columns.map(lines).max() ?? 0
    let height = min(canvas.height - 2, tallest + 2)
    let width = min(canvas.width - 4, 48 * columns.count)
    let box = canvas.sub(
      Rect(x: (canvas.width - width) / 2, y: (canvas.height - height) / 2, width: width, height: height))
    // Lines below the box are reached by scrolling; the note says how far down the view is.
    let limit = max(0, tallest - (height - 2))
    app.helpScrollLimit = limit
    let scroll = min(app.helpScroll, limit)
    let note =
      limit == 0
      ? "any key closes" : "j/k scroll \(scroll + height - 2)/\(tallest) · other keys close"
    let inner = Panel.draw(box, title: "Keys", focused: true, context: context, note: note)
    let columnWidth = inner.width / columns.count
    for (index, column) in columns.enumerated() {
      let x = index * columnWidth
      let width = index == columns.count - 1 ? inner.width - x : columnWidth
      drawColumn(
        inner.sub(Rect(x: x, y: 0, width: width, height: inner.height)), column, from: scroll, context: context)
    }
  }

  /// The column's lines from line `first` on.
  private static func drawColumn(
    _ canvas: Canvas, _ part: [(title: String, keys: [(String, String)])], from first: Int, context: DrawContext
  ) {
    var line = 0
    func put(_ draw: (Int) -> Void) {
      if line >= first, line - first < canvas.height { draw(line - first) }
      line += 1
    }
    for section in part {
      put { canvas.text(1, $0, section.title, context.style(.title, .bold)) }
      for (key, label) in section.keys {
        put { y in
          canvas.text(2, y, key, context.style(.highlight, .bold))
          canvas.text(18, y, label, context.text, ellipsis: context.glyphs.ellipsis)
        }
      }
      line += 1
    }
  }
}
