/// The frame around a plot: value labels on the left, a baseline with the x labels below.
/// Returns the plot area so every chart labels its axes the same way.
public struct Axes {
  public var yRange: ClosedRange<Double>
  public var yLabel: (Double) -> String
  public var xLabels: (first: String, last: String)

  public init(yRange: ClosedRange<Double>, yLabel: @escaping (Double) -> String, xLabels: (first: String, last: String))
  {
    self.yRange = yRange
    self.yLabel = yLabel
    self.xLabels = xLabels
  }

  /// Draws the axes and returns the rectangle (in canvas coordinates) left for the plot.
  public func draw(_ canvas: Canvas, context: DrawContext) -> Rect {
    let top = yLabel(yRange.upperBound)
    let bottom = yLabel(yRange.lowerBound)
    let labelWidth = max(CharacterWidth.of(top), CharacterWidth.of(bottom))
    let axisX = labelWidth
    let plotHeight = canvas.height - 2
    guard plotHeight >= 1, canvas.width > labelWidth + 2 else { return Rect(x: 0, y: 0, width: 0, height: 0) }
    let text = context.style(.graphText)
    let line = context.style(.border)
    canvas.text(0, 0, Format.fit(top, labelWidth, right: true), text)
    canvas.text(0, plotHeight - 1, Format.fit(bottom, labelWidth, right: true), text)
    for y in 0..<plotHeight {
      canvas.put(axisX, y, y == 0 || y == plotHeight - 1 ? context.glyphs.axisTick : context.glyphs.vertical, line)
    }
    canvas.put(axisX, plotHeight, context.glyphs.axisCorner, line)
    for x in (axisX + 1)..<canvas.width { canvas.put(x, plotHeight, context.glyphs.horizontal, line) }
    canvas.text(axisX + 1, plotHeight + 1, xLabels.first, text)
    let lastWidth = CharacterWidth.of(xLabels.last)
    if canvas.width - lastWidth > axisX + 1 + CharacterWidth.of(xLabels.first) + 1 {
      canvas.text(canvas.width - lastWidth, plotHeight + 1, xLabels.last, text)
    }
    return Rect(x: axisX + 1, y: 0, width: canvas.width - axisX - 1, height: plotHeight)
  }

  /// A padded range for fractions (accuracy) that stays within 0...1, so no axis reads 105%.
  public static func fractionRange(_ values: [Double]) -> ClosedRange<Double> {
    let padded = paddedRange(values)
    let low = max(0, padded.lowerBound)
    let high = min(1, padded.upperBound)
    return low < high ? low...high : 0...1
  }

  /// A range around `values` with a little room, never empty.
  public static func paddedRange(_ values: [Double], includeZero: Bool = false) -> ClosedRange<Double> {
    guard var low = values.min(), var high = values.max() else { return 0...1 }
    if includeZero {
      low = min(low, 0)
      high = max(high, 0)
    }
    if high - low < 1e-12 {
      let pad = abs(high) > 0 ? abs(high) * 0.05 : 1
      return (low - pad)...(high + pad)
    }
    let pad = (high - low) * 0.05
    // Sizes, latencies and losses are never negative: do not pad below zero.
    let bottom = low >= 0 && low - pad < 0 ? 0 : low - pad
    return bottom...(high + pad)
  }
}
