/// A one-line text input: the text being typed and what keys do to it.
public struct TextField: Equatable {
  public var text: String

  public init(_ text: String = "") { self.text = text }

  /// Applies an editing key; false for keys a field does not use (enter, escape, arrows...).
  public mutating func handle(_ key: Key) -> Bool {
    switch key {
    case .character(let character):
      text.append(character)
      return true
    case .backspace, .delete:
      if !text.isEmpty { text.removeLast() }
      return true
    case .control("u"):
      text = ""
      return true
    default:
      return false
    }
  }

  /// Draws the text with a block cursor after it, scrolled so the end stays visible.
  public func draw(_ canvas: Canvas, x: Int, y: Int, width: Int, context: DrawContext) {
    let style = context.theme.style(.selectedForeground, on: .selectedBackground)
    canvas.fill(Rect(x: x, y: y, width: width, height: 1), " ", style)
    var shown = text
    while CharacterWidth.of(shown) > width - 1, !shown.isEmpty { shown.removeFirst() }
    let end = canvas.text(x, y, shown, style)
    canvas.put(end, y, " ", style.with(.reverse))
  }
}
