/// Per-channel min..max as horizontal spans on a shared axis, zero marked: shows at a glance
/// which channels a per-tensor quantization scale would crush.
public struct RangePlot {
  public var minimums: [Double]
  public var maximums: [Double]

  public init(minimums: [Double], maximums: [Double]) {
    self.minimums = minimums
    self.maximums = maximums
  }

  public func draw(_ canvas: Canvas, context: DrawContext) {
    let count = min(minimums.count, maximums.count)
    guard count > 0, canvas.width > 20, canvas.height > 1 else { return }
    let low = min(0, minimums.prefix(count).min()!)
    let high = max(0, maximums.prefix(count).max()!)
    let labelWidth = 5
    let plotWidth = canvas.width - labelWidth - 1
    let span = high - low > 0 ? high - low : 1
    func column(_ value: Double) -> Int { Int(((value - low) / span * Double(plotWidth - 1)).rounded()) }
    let zero = column(0)
    let rows = canvas.height - 1
    canvas.text(labelWidth + 1, 0, Format.axis(low), context.style(.graphText))
    let highLabel = Format.axis(high)
    canvas.text(canvas.width - CharacterWidth.of(highLabel), 0, highLabel, context.style(.graphText))
    for row in 0..<min(rows, count) {
      // With more channels than rows, each row shows the widest range of its group.
      let first = row * count / min(rows, count)
      let last = max(first + 1, (row + 1) * count / min(rows, count))
      let lo = minimums[first..<last].min()!
      let hi = maximums[first..<last].max()!
      let y = row + 1
      canvas.text(0, y, Format.fit("c\(first)", labelWidth), context.style(.inactive))
      canvas.put(labelWidth + 1 + zero, y, context.glyphs.vertical, context.style(.border))
      for x in column(lo)...max(column(lo), column(hi)) {
        canvas.put(labelWidth + 1 + x, y, context.glyphs.eighths[8], context.style(.histogramAfter))
      }
    }
  }
}
