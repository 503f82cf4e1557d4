/// `T`: the tutorials, with how far the learner got in each. Enter starts or resumes one,
/// `r` starts it over; a file with a mistake is listed with the mistake instead of hidden.
public final class TutorialListScreen: Screen {
  let entries: [(name: String, tutorial: Result<Tutorial, TutorialFileError>)]
  public private(set) var selected = 0

  public init(library: TutorialLibrary) { entries = library.all() }

  public var title: String { "tutorials" }
  public var bindings: [KeyBinding] {
    [
      KeyBinding(KeyBinding.verticalKeys, hint: ("j/k", "move")), KeyBinding([.enter], hint: ("enter", "start/resume")),
      KeyBinding([Key("r")], hint: ("r", "restart")),
      // The app's tutorial key, shown here where tutorials are chosen.
      KeyBinding([Key("X")], hint: ("X", "leave tutorial")), KeyBinding([.escape], hint: ("esc", "back")),
    ]
  }

  public func draw(_ canvas: Canvas, app: WorkbenchApp) {
    let context = app.context
    let inner = Panel.draw(canvas, title: "Tutorials", focused: true, context: context, note: "\(entries.count)")
    guard !entries.isEmpty else {
      inner.text(1, 1, "No tutorials found (samples/tutorials/*.yaml).", context.style(.inactive))
      return
    }
    let progress = app.tutorialProgress
    let rows: [[TableCell]] = entries.enumerated().map { number, entry in
      switch entry.tutorial {
      case .success(let tutorial):
        let saved = progress.tutorials[tutorial.name]
        let state: TableCell =
          saved?.completed == true
          ? .text("completed", .ok)
          : (saved?.step ?? 0) > 0
            ? .text("at step \(saved!.step + 1) of \(tutorial.steps.count)", .running)
            : .text("new", .inactive)
        return [
          .text("\(number + 1)", .inactive), .text(tutorial.title), .text("\(tutorial.minutes) min", .inactive), state,
        ]
      case .failure:
        return [.text("\(number + 1)", .inactive), .text(entry.name), .text(""), .text("has a mistake", .error)]
      }
    }
    let table = Table(
      columns: [
        TableColumn("#", .fixed(2), .right), TableColumn("tutorial", .weight(1)), TableColumn("time", .fixed(7)),
        TableColumn("progress", .fixed(18)),
      ], rows: rows, selected: selected)
    let listHeight = min(inner.height - 4, entries.count + Table.headerHeight)
    table.draw(inner.sub(Rect(x: 0, y: 0, width: inner.width, height: listHeight)), context: context, focused: true)
    let below = inner.sub(Rect(x: 1, y: listHeight + 1, width: inner.width - 2, height: inner.height - listHeight - 1))
    let text: String
    let style: Style
    switch entries[selected].tutorial {
    case .success(let tutorial):
      text = tutorial.summary
      style = context.text
    case .failure(let error):
      text = "\(error)"
      style = context.style(.error)
    }
    for (y, line) in TextWrap.lines(text, width: below.width).enumerated() { below.text(0, y, line, style) }
  }

  public func handle(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    switch key {
    case .escape: return .close
    case .enter, .character("r"):
      guard entries.indices.contains(selected) else { return .handled }  // no tutorials to start
      guard case .success(let tutorial) = entries[selected].tutorial else {
        app.post(.error, "\(entries[selected].name) cannot start; fix the file first")
        return .handled
      }
      app.startTutorial(tutorial, restart: key == .character("r"))
      return .handled
    default:
      guard let step = key.verticalStep else { return .unhandled }
      selected = max(0, min(entries.count - 1, selected + step))
      return .handled
    }
  }
}
