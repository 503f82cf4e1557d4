/// A bordered box with a title, lazygit style. The focused panel gets heavier, coloured lines
/// so focus is visible with and without colour.
public enum Panel {
  /// Draws the frame and returns the canvas inside it.
  @discardableResult
  public static func draw(_ canvas: Canvas, title: String, focused: Bool, context: DrawContext, note: String? = nil)
    -> Canvas
  {
    let g = context.glyphs
    let style = context.style(focused ? .focusBorder : .border, focused ? .bold : [])
    let w = canvas.width
    let h = canvas.height
    guard w >= 2, h >= 2 else { return canvas.sub(Rect(x: 0, y: 0, width: 0, height: 0)) }
    canvas.fill(nil, " ", context.theme.text)
    let horizontal = focused ? g.focusHorizontal : g.horizontal
    let vertical = focused ? g.focusVertical : g.vertical
    for x in 1..<(w - 1) {
      canvas.put(x, 0, horizontal, style)
      canvas.put(x, h - 1, horizontal, style)
    }
    for y in 1..<(h - 1) {
      canvas.put(0, y, vertical, style)
      canvas.put(w - 1, y, vertical, style)
    }
    canvas.put(0, 0, focused ? g.focusTopLeft : g.topLeft, style)
    canvas.put(w - 1, 0, focused ? g.focusTopRight : g.topRight, style)
    canvas.put(0, h - 1, focused ? g.focusBottomLeft : g.bottomLeft, style)
    canvas.put(w - 1, h - 1, focused ? g.focusBottomRight : g.bottomRight, style)
    let titleStyle = context.style(focused ? .focusBorder : .title, .bold)
    canvas.text(2, 0, " \(title) ", titleStyle, maxWidth: w - 4, ellipsis: g.ellipsis)
    if let note, !note.isEmpty {
      let width = CharacterWidth.of(note) + 2
      let x = w - 2 - width
      if x > CharacterWidth.of(title) + 4 { canvas.text(x, h - 1, " \(note) ", context.style(.inactive)) }
    }
    return canvas.inset(1)
  }
}
