import Foundation

/// A one-line field for a file path, with tab completion (`PathCompletion`): tab completes what
/// is typed against the file system and keeps the candidates to show under the field.
struct PathField: Equatable {
  var field: TextField
  /// The names the last tab found when it could not choose one; cleared by the next edit.
  private(set) var candidates: [String] = []

  init(_ text: String = "") { field = TextField(text) }

  var text: String { field.text }

  /// Tab completes; other keys edit as in `TextField`. False for keys a path field does not use.
  mutating func handle(_ key: Key, base: URL) -> Bool {
    if key == .tab {
      let result = PathCompletion.complete(field.text, base: base)
      field.text = result.text
      candidates = result.candidates
      return true
    }
    guard field.handle(key) else { return false }
    candidates = []
    return true
  }

  func draw(_ canvas: Canvas, x: Int, y: Int, width: Int, context: DrawContext) {
    field.draw(canvas, x: x, y: y, width: width, context: context)
  }

  /// The candidates, as many lines of names as `height` allows, each name padded to the longest
  /// (readline's columns); the last line says how many did not fit.
  func drawCandidates(_ canvas: Canvas, x: Int, y: Int, width: Int, height: Int, context: DrawContext) {
    guard !candidates.isEmpty, height > 0, width > 0 else { return }
    let cell = min(width, (candidates.map(CharacterWidth.of).max() ?? 0) + 2)
    let perLine = max(1, width / cell)
    let lines = (candidates.count + perLine - 1) / perLine
    let shownLines = lines <= height ? lines : height - 1
    for line in 0..<shownLines {
      for column in 0..<perLine {
        let index = line * perLine + column
        guard index < candidates.count else { break }
        canvas.text(
          x + column * cell, y + line, candidates[index], context.style(.inactive), maxWidth: cell - 1,
          ellipsis: context.glyphs.ellipsis)
      }
    }
    if shownLines < lines {
      let more = candidates.count - shownLines * perLine
      canvas.text(
        x, y + shownLines, "\(context.glyphs.ellipsis) and \(more) more: type more and press tab",
        context.style(.inactive))
    }
  }
}
