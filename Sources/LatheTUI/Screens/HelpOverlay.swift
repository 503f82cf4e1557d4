/// `?`: every key, in a box over the current screen. Any key closes it.
enum HelpOverlay {
  /// Made from the screens' own binding lists, so help cannot list a key a screen lacks.
  static var sections: [(title: String, keys: [(String, String)])] {
    let lists: [(String, [KeyBinding])] = [
      ("Everywhere", WorkbenchApp.globalBindings), ("Workbench", HomeScreen().bindings),
      ("Step editor", StepEditorScreen.helpBindings), ("Compare", CompareScreen.keyBindings),
      ("Search", SearchScreen.setupBindings + SearchScreen.studyBindings(axis: .size)),
      ("Tutorial", WorkbenchApp.tutorialBindings), ("Open", OpenScreen.browsingBindings),
    ]
    return lists.map { title, bindings in (title, bindings.compactMap { $0.help.map { ($0.key, $0.text) } }) }
  }

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
