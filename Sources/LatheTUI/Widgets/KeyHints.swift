/// A row of key hints ("n next  a all  ? help  q quit"), keys highlighted. The pinned hints
/// (the app's `? help` and `q quit`) always show, at the end; the screen's hints come first, in
/// their list's order, which is their priority: those that do not fit are dropped from the end
/// rather than cut in half, so at 80 columns a newcomer still sees how to get help and quit.
public enum KeyHints {
  public typealias Hint = (key: String, label: String)

  public static func draw(_ canvas: Canvas, y: Int, hints: [Hint], pinned: [Hint] = [], context: DrawContext) {
    let keyStyle = context.theme.style(.highlight, on: .statusBackground, .bold)
    let labelStyle = context.theme.style(.statusForeground, on: .statusBackground)
    var x = 1
    for hint in fitting(hints, pinned: pinned, width: canvas.width) {
      x = canvas.text(x, y, hint.key, keyStyle)
      x = canvas.text(x + 1, y, hint.label, labelStyle) + 2
    }
  }

  /// What shows in `width` columns: the longest prefix of `hints` that leaves room for every
  /// pinned hint, then the pinned ones (as many as fit, on a terminal too narrow even for them).
  static func fitting(_ hints: [Hint], pinned: [Hint], width: Int) -> [Hint] {
    // Each hint takes "key label" and two spaces after; the row starts at column 1.
    func cost(_ hint: Hint) -> Int { CharacterWidth.of(hint.key) + 1 + CharacterWidth.of(hint.label) + 2 }
    let available = width - 1 + 2  // the last hint needs no spaces after it
    var used = pinned.reduce(0) { $0 + cost($1) }
    var shown: [Hint] = []
    for hint in hints {
      guard used + cost(hint) <= available else { break }
      used += cost(hint)
      shown.append(hint)
    }
    var total = shown.reduce(0) { $0 + cost($1) }
    for hint in pinned where total + cost(hint) <= available {
      total += cost(hint)
      shown.append(hint)
    }
    return shown
  }
}
