/// A line chart of one or more series over a shared x, drawn with braille dots and labelled
/// axes. Used for accuracy / size / latency across steps and for training curves.
public struct LineChart {
  public struct Series {
    public var points: [(x: Double, y: Double)]
    public var color: ThemeColor
    public init(points: [(x: Double, y: Double)], color: ThemeColor) {
      self.points = points
      self.color = color
    }
  }

  public var series: [Series]
  public var yLabel: (Double) -> String
  public var xLabel: (Double) -> String
  /// Fixed y range (e.g. 0...1 for accuracy); computed from the data when nil.
  public var yRange: ClosedRange<Double>?

  public init(
    series: [Series], yRange: ClosedRange<Double>? = nil, yLabel: @escaping (Double) -> String = Format.axis,
    xLabel: @escaping (Double) -> String = Format.axis
  ) {
    self.series = series
    self.yRange = yRange
    self.yLabel = yLabel
    self.xLabel = xLabel
  }

  public func draw(_ canvas: Canvas, context: DrawContext) {
    let all = series.flatMap(\.points)
    guard !all.isEmpty else {
      canvas.text(0, 0, "no data yet", context.style(.inactive))
      return
    }
    let ys = yRange ?? Axes.paddedRange(all.map(\.y))
    let xLow = all.map(\.x).min()!
    let xHigh = all.map(\.x).max()!
    let axes = Axes(yRange: ys, yLabel: yLabel, xLabels: (xLabel(xLow), xLabel(xHigh)))
    let plot = axes.draw(canvas, context: context)
    guard !plot.isEmpty else { return }
    var dots = DotGrid(columns: plot.width, rows: plot.height, glyphs: context.glyphs)
    func position(_ point: (x: Double, y: Double)) -> (Int, Int) {
      let fx = xHigh > xLow ? (point.x - xLow) / (xHigh - xLow) : 0.5
      let fy = (point.y - ys.lowerBound) / (ys.upperBound - ys.lowerBound)
      let x = Int((fx * Double(dots.width - 1)).rounded())
      let y = Int(((1 - min(1, max(0, fy))) * Double(dots.height - 1)).rounded())
      return (x, y)
    }
    for one in series {
      let color = context.theme[one.color]
      var previous: (Int, Int)?
      for point in one.points where point.y.isFinite {
        let current = position(point)
        if let previous {
          dots.line(previous.0, previous.1, current.0, current.1, color: color)
        } else {
          dots.dot(current.0, current.1, color: color)
        }
        previous = current
      }
    }
    dots.draw(canvas, x: plot.x, y: plot.y, background: context.theme[.mainBackground])
  }
}
