import Foundation

/// `p`: type a prompt and read what the model as opened and each compressed step's model write
/// after it, side by side. Perplexity says how much a step cost on average; the continuations
/// show what that looks like — the quickest way to see what a compression did to a language
/// model. Greedy decoding, so the same prompt always gives the same text.
public final class PromptScreen: Screen {
  private var prompt: TextField
  private var continuations: [Continuation] = []
  private var error: String?
  /// Bytes each model writes.
  static let length = 160

  public init(prompt: String = "And God said, ") { self.prompt = TextField(prompt) }

  public var title: String { "prompt" }
  public var capturesText: Bool { true }
  /// Every other key edits the prompt.
  public var bindings: [KeyBinding] {
    [KeyBinding([.enter], hint: ("enter", "generate")), KeyBinding([.escape], hint: ("esc", "back"))]
  }

  public func draw(_ canvas: Canvas, app: WorkbenchApp) {
    let context = app.context
    let inner = Panel.draw(canvas, title: "Prompt", focused: true, context: context)
    inner.text(1, 0, "prompt:", context.style(.title))
    prompt.draw(inner, x: 9, y: 0, width: max(10, inner.width - 10), context: context)
    if let error {
      inner.text(1, 2, error, context.style(.error, .bold), ellipsis: context.glyphs.ellipsis)
      return
    }
    guard !continuations.isEmpty else {
      inner.text(
        1, 2, "enter: the original model and every done step continue the prompt (\(Self.length) bytes, greedy)",
        context.style(.inactive), ellipsis: context.glyphs.ellipsis)
      return
    }
    // One column per snapshot, as many as fit at 24 columns or more; the latest steps win.
    let fit = max(1, min(continuations.count, (inner.width - 1) / 24))
    let shown = [continuations[0]] + continuations.dropFirst().suffix(fit - 1)
    let width = (inner.width - 1) / shown.count
    for (i, c) in shown.enumerated() {
      let column = inner.sub(Rect(x: 1 + i * width, y: 2, width: width - 1, height: inner.height - 2))
      var header = c.name
      if let perplexity = c.perplexity { header += String(format: "  ppl %.3f", perplexity) }
      column.text(0, 0, header, context.style(i == 0 ? .histogramBefore : .histogramAfter, .bold))
      // The prompt, then the continuation; line breaks shown, so verse boundaries stay visible.
      let text = prompt.text + c.text.replacingOccurrences(of: "\n", with: " ⏎ ")
      for (row, line) in TextWrap.lines(text, width: max(1, column.width)).prefix(column.height - 1).enumerated() {
        column.text(0, row + 1, line, context.style(.mainForeground))
      }
    }
  }

  public func handle(_ key: Key, app: WorkbenchApp) -> ScreenAction {
    switch key {
    case .escape: return .close
    case .enter:
      do {
        continuations = try app.session.continuations(of: prompt.text, count: Self.length)
        error = nil
      } catch {
        self.error = "\(error)"
      }
    default:
      _ = prompt.handle(key)
    }
    return .handled
  }
}
