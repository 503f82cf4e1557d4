import LatheIO

/// Accuracy against size (or latency), one mark per snapshot or trial, the Pareto front (nothing
/// else is both smaller and at least as accurate) joined by a line and drawn in its own colour and glyph.
/// A point that misses a constraint of its study is drawn as a cross and never joins the front.
public struct ScatterChart {
  public struct Point: Equatable {
    /// The x value: bytes, or whatever `xLabel` labels.
    public var size: Double
    public var accuracy: Double
    /// Short label drawn next to the mark ("0" for the original, then step numbers).
    public var label: String
    /// A trial whose model misses one of the study's constraints: it cannot be best.
    public var missesConstraint: Bool
    public init(size: Double, accuracy: Double, label: String, missesConstraint: Bool = false) {
      self.size = size
      self.accuracy = accuracy
      self.label = label
      self.missesConstraint = missesConstraint
    }
  }

  public var points: [Point]
  /// Labels the x axis's ends (bytes unless told otherwise).
  public var xLabel: (Double) -> String

  public init(points: [Point], xLabel: @escaping (Double) -> String = { ByteCount.format(Int($0)) }) {
    self.points = points
    self.xLabel = xLabel
  }

  /// Indices of the points on the Pareto front (smaller size and higher accuracy are better),
  /// sorted by size.
  public static func paretoFront(_ points: [Point]) -> [Int] {
    let candidates = points.indices.filter { !points[$0].missesConstraint }
    let front = candidates.filter { index in
      let p = points[index]
      return !candidates.contains { other in
        let q = points[other]
        return other != index && q.size <= p.size && q.accuracy >= p.accuracy
          && (q.size < p.size || q.accuracy > p.accuracy)
      }
    }
    return front.sorted { points[$0].size < points[$1].size }
  }

  public func draw(_ canvas: Canvas, context: DrawContext) {
    guard !points.isEmpty else {
      canvas.text(0, 0, "no data yet", context.style(.inactive))
      return
    }
    let ys = Axes.fractionRange(points.map(\.accuracy))
    let sizes = points.map(\.size)
    let xLow = sizes.min()!
    let xHigh = sizes.max()!
    let axes = Axes(
      yRange: ys, yLabel: { Format.percent($0, digits: 1) },
      xLabels: (xLabel(xLow), xLabel(xHigh)))
    let plot = axes.draw(canvas, context: context)
    guard !plot.isEmpty else { return }
    var dots = DotGrid(columns: plot.width, rows: plot.height, glyphs: context.glyphs)
    func cell(_ point: Point) -> (x: Int, y: Int) {
      let fx = xHigh > xLow ? (point.size - xLow) / (xHigh - xLow) : 0.5
      let fy = (point.accuracy - ys.lowerBound) / (ys.upperBound - ys.lowerBound)
      return (Int((fx * Double(plot.width - 1)).rounded()), Int(((1 - fy) * Double(plot.height - 1)).rounded()))
    }
    let front = ScatterChart.paretoFront(points)
    let frontColor = context.theme[.pareto]
    for (a, b) in zip(front, front.dropFirst()) {
      let start = cell(points[a])
      let end = cell(points[b])
      dots.line(
        start.x * dots.dotsAcross + dots.dotsAcross / 2, start.y * dots.dotsDown + dots.dotsDown / 2,
        end.x * dots.dotsAcross + dots.dotsAcross / 2, end.y * dots.dotsDown + dots.dotsDown / 2,
        color: frontColor)
    }
    dots.draw(canvas, x: plot.x, y: plot.y, background: context.theme[.mainBackground])
    let plotCanvas = canvas.sub(plot)
    for (index, point) in points.enumerated() {
      let position = cell(point)
      let onFront = front.contains(index)
      let style = context.style(onFront ? .pareto : point.missesConstraint ? .warning : .size, onFront ? .bold : [])
      let mark =
        onFront ? context.glyphs.frontPoint : point.missesConstraint ? context.glyphs.cross : context.glyphs.point
      plotCanvas.put(position.x, position.y, mark, style)
      let labelX =
        position.x + 1 + CharacterWidth.of(point.label) <= plot.width
        ? position.x + 1
        : position.x - 1
          - CharacterWidth.of(point.label)
      plotCanvas.text(labelX, position.y, point.label, context.style(.graphText))
    }
  }
}
