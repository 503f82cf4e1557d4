import Foundation

/// Vertical bars at 1/8-cell resolution, one bin per column group; the weight histograms of
/// the layer detail screen. Two histograms drawn with the same `maxCount` compare honestly.
public struct Histogram {
  public var bins: [Int]
  public var color: ThemeColor
  /// Counts are scaled against this (the larger of the histograms being compared).
  public var maxCount: Int
  public var range: ClosedRange<Double>
  /// Bar heights by log(1 + count): a pruned layer's spike of zeros no longer flattens the
  /// rest of its weights to one row.
  public var logScale: Bool

  public init(
    bins: [Int], color: ThemeColor, maxCount: Int? = nil, range: ClosedRange<Double>, logScale: Bool = false
  ) {
    self.bins = bins
    self.color = color
    self.maxCount = max(1, maxCount ?? bins.max() ?? 1)
    self.range = range
    self.logScale = logScale
  }

  /// A count's height on the scale, 0...1.
  func height(_ count: Int) -> Double {
    logScale ? log1p(Double(count)) / log1p(Double(maxCount)) : Double(count) / Double(maxCount)
  }

  public func draw(_ canvas: Canvas, context: DrawContext) {
    let axes = Axes(
      yRange: 0...Double(maxCount), yLabel: { Format.count(Int($0)) },
      xLabels: (Format.axis(range.lowerBound), Format.axis(range.upperBound)))
    let plot = axes.draw(canvas, context: context)
    guard !plot.isEmpty, !bins.isEmpty else { return }
    let area = canvas.sub(plot)
    let style = context.style(color)
    for column in 0..<plot.width {
      // Each column shows the largest bin among those it covers, so narrow spikes survive.
      let first = column * bins.count / plot.width
      let last = max(first, (column + 1) * bins.count / plot.width - 1)
      let count = bins[first...min(last, bins.count - 1)].max() ?? 0
      var eighths = Int((height(count) * Double(plot.height * 8)).rounded())
      if count > 0 { eighths = max(1, eighths) }
      for row in 0..<plot.height {
        let filled = min(8, max(0, eighths - row * 8))
        if filled > 0 { area.put(column, plot.height - 1 - row, context.glyphs.verticalEighths[filled], style) }
      }
    }
  }
}
