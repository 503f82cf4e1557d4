import LatheIO

/// `L`: every message of this run in full (the session's and the workbench's own), oldest at the
/// top, newest at the bottom, wrapped to the width and coloured by level. The status line shows
/// only the newest message, cut to one line; this is where a long error is read whole.
public final class LogScreen: Screen {
  /// How many lines the view is scrolled up from the newest; 0 follows new messages.
  private(set) var linesFromBottom = 0

  public init() {}

  public var title: String { "log" }

  public var bindings: [KeyBinding] {
    [
      KeyBinding(KeyBinding.verticalKeys, hint: ("j/k", "scroll")),
      KeyBinding([.home, Key("g")], hint: ("g/G", "oldest/newest"), help: ("g / home", "oldest message")),
      KeyBinding([.end, Key("G")], help: ("G / end", "newest message")),
      KeyBinding([.escape], hint: ("esc", "back")),
    ]
  }

  /// Each message's lines: the level in a column, the text wrapped beside it, line breaks kept.
  static func lines(_ log: [LogLine], width: Int) -> [(text: String, level: LogLine.Level, first: Bool)] {
    let indent = 6
    var result: [(String, LogLine.Level, Bool)] = []
    for line in log {
      let label = line.level == .error ? "error" : line.level == .warning ? "warn" : "info"
      var first = true
      for part in line.text.split(separator: "\n", omittingEmptySubsequences: false) {
        let wrapped = TextWrap.lines(String(part), width: max(1, width - indent))
        for piece in wrapped.isEmpty ? [""] : wrapped {
          let prefix =
            first ? label.padding(toLength: indent, withPad: " ", startingAt: 0) : String(repeating: " ", count: indent)
          result.append((prefix + piece, line.level, first))
          first = false
        }
      }
    }
    return result
  }

  public func draw(_ canvas: Canvas, app: WorkbenchApp) {
    let context = app.context
    let log = app.fullLog
    // The panel's border takes a cell on each side, the text keeps one more from it.
    let lines = Self.lines(log, width: canvas.width - 4)
    let height = max(0, canvas.height - 2)
    linesFromBottom = max(0, min(linesFromBottom, lines.count - height))
    let end = lines.count - linesFromBottom
    let start = max(0, end - height)
    var note = Wording.count(log.count, "message")
    if start > 0 { note += ", \(start) lines above" }
    if linesFromBottom > 0 { note += ", \(linesFromBottom) below" }
    let inner = Panel.draw(canvas, title: "Log", focused: true, context: context, note: note)
    guard !log.isEmpty else {
      inner.text(1, 0, "No messages yet.", context.style(.inactive))
      return
    }
    for (row, line) in lines[start..<end].enumerated() {
      let role: ThemeColor = line.level == .error ? .error : line.level == .warning ? .warning : .mainForeground
      inner.text(1, row, line.text, context.style(role), maxWidth: inner.width - 2)
      if line.first { inner.restyle(Rect(x: 1, y: row, width: 5, height: 1)) { $0.with(.bold) } }
    }
  }

  public func handle(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    switch key {
    case .escape: return .close
    case .home, Key("g"): linesFromBottom = Int.max / 2
    case .end, Key("G"): linesFromBottom = 0
    default:
      guard let step = key.verticalStep else { return .unhandled }
      // Down moves towards the newest; the drawing clamps at both ends.
      linesFromBottom = max(0, linesFromBottom - step)
    }
    return .handled
  }
}
