import LatheIO

/// Accuracy against size (or latency), one mark per snapshot or trial, the Pareto front (nothing
/// else is both smaller and at least as accurate) joined by a line and drawn in its own colour and glyph.
/// A point that misses a constraint of its study is drawn as a cross and never joins the front.
/// Labels go beside their marks where they overlap nothing, the front's first; a label with no
/// room is left out rather than written over another (trial labels used to run together).
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
  /// Indices of the points to mark as the front, best first (drawn `Glyphs.best`), instead of
  /// the front on the chart's own axes: the Search screen marks its study's front, as its table.
  public var front: [Int]?

  public init(
    points: [Point], xLabel: @escaping (Double) -> String = { ByteCount.format(Int($0)) }, front: [Int]? = nil
  ) {
    self.points = points
    self.xLabel = xLabel
    self.front = front
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
    let best = self.front?.first
    let front =
      self.front.map { given in given.sorted { points[$0].size < points[$1].size } }
      ?? ScatterChart.paretoFront(points)
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
    var taken = LabelSpace(width: plot.width, height: plot.height)
    for (index, point) in points.enumerated() {
      let position = cell(point)
      let onFront = front.contains(index)
      let style = context.style(onFront ? .pareto : point.missesConstraint ? .warning : .size, onFront ? .bold : [])
      let mark =
        index == best
        ? context.glyphs.best
        : onFront ? context.glyphs.frontPoint : point.missesConstraint ? context.glyphs.cross : context.glyphs.point
      plotCanvas.put(position.x, position.y, mark, style)
      taken.mark(position.x, position.y)
    }
    // The front's labels first: they are the ones a reader looks for.
    let order = front + points.indices.filter { !front.contains($0) }
    for index in order {
      let position = cell(points[index])
      let label = points[index].label
      let width = CharacterWidth.of(label)
      for x in [position.x + 1, position.x - 1 - width] where taken.isFree(x, position.y, width: width) {
        plotCanvas.text(x, position.y, label, context.style(.graphText))
        taken.label(x, position.y, width: width)
        break
      }
    }
  }
}

/// Which cells of a scatter plot hold a mark or a label, so labels never cover either. A label
/// also keeps the cells beside it, so two labels never run together ("12" and "3" into "123").
private struct LabelSpace {
  let width: Int
  let height: Int
  private var marks: Set<Int> = []
  private var labels: Set<Int> = []

  init(width: Int, height: Int) {
    self.width = width
    self.height = height
  }

  mutating func mark(_ x: Int, _ y: Int) { marks.insert(y * width + x) }

  mutating func label(_ x: Int, _ y: Int, width count: Int) {
    for column in (x - 1)...(x + count) where column >= 0 && column < width { labels.insert(y * width + column) }
  }

  func isFree(_ x: Int, _ y: Int, width count: Int) -> Bool {
    guard x >= 0, x + count <= width, y >= 0, y < height else { return false }
    return (x..<(x + count)).allSatisfy { !marks.contains(y * width + $0) && !labels.contains(y * width + $0) }
  }
}
