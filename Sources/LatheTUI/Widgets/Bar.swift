/// Horizontal bars at 1/8-cell resolution (sparsity, progress).
public enum Bar {
  /// Fills `width` cells from (x, y) in proportion to `fraction` (clamped to 0...1).
  public static func draw(
    _ canvas: Canvas, x: Int, y: Int, width: Int, fraction: Double, fill: Style, empty: Style,
    glyphs: Glyphs
  ) {
    guard width > 0 else { return }
    let clamped = fraction.isFinite ? min(1, max(0, fraction)) : 0
    let eighths = Int((clamped * Double(width * 8)).rounded())
    for column in 0..<width {
      let part = min(8, max(0, eighths - column * 8))
      if part == 8 {
        canvas.put(x + column, y, glyphs.eighths[8], fill)
      } else if part > 0 {
        canvas.put(x + column, y, glyphs.eighths[part], fill.background(empty.background))
      } else {
        canvas.put(x + column, y, glyphs.isUnicode ? " " : ".", empty)
      }
    }
  }

  /// A progress bar followed by its percentage, e.g. `█████▌    42%`.
  public static func progress(_ canvas: Canvas, x: Int, y: Int, width: Int, fraction: Double, context: DrawContext) {
    let label = Format.percent(fraction, digits: 0)
    let barWidth = max(0, width - CharacterWidth.of(label) - 1)
    draw(
      canvas, x: x, y: y, width: barWidth, fraction: fraction, fill: context.style(.running),
      empty: context.theme.style(.inactive, on: .meterBackground), glyphs: context.glyphs)
    canvas.text(x + barWidth + 1, y, label, context.style(.running))
  }
}
