/// A row of key hints ("n next  a all  ? help"), keys highlighted; hints that do not fit are
/// dropped from the end rather than cut in half.
public enum KeyHints {
  public static func draw(_ canvas: Canvas, y: Int, hints: [(key: String, label: String)], context: DrawContext) {
    let keyStyle = context.theme.style(.highlight, on: .statusBackground, .bold)
    let labelStyle = context.theme.style(.statusForeground, on: .statusBackground)
    var x = 1
    for hint in hints {
      let width = CharacterWidth.of(hint.key) + 1 + CharacterWidth.of(hint.label)
      if x + width > canvas.width { break }
      x = canvas.text(x, y, hint.key, keyStyle)
      x = canvas.text(x + 1, y, hint.label, labelStyle) + 2
    }
  }
}
