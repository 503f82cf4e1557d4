/// A grid of densities 0...1 drawn with shade glyphs (░▒▓█): the sparsity map of a weight
/// matrix, one cell per block of weights, rows = output channels.
public struct DensityMap {
  public var values: [Double]
  public var rows: Int
  public var columns: Int

  public init(values: [Double], rows: Int, columns: Int) {
    self.values = values
    self.rows = rows
    self.columns = columns
  }

  public func draw(_ canvas: Canvas, context: DrawContext) {
    guard rows > 0, columns > 0, values.count >= rows * columns else { return }
    let shades = context.glyphs.shades
    let style = context.theme.style(.sparsity, on: .meterBackground)
    // Fill the canvas: small maps are stretched, large ones averaged down.
    let height = canvas.height
    let width = canvas.width
    guard height > 0, width > 0 else { return }
    for y in 0..<height {
      for x in 0..<width {
        // Sample the block of map entries this cell covers and average them.
        let r0 = y * rows / height
        let r1 = max(r0 + 1, (y + 1) * rows / height)
        let c0 = x * columns / width
        let c1 = max(c0 + 1, (x + 1) * columns / width)
        var sum = 0.0
        for r in r0..<r1 { for c in c0..<c1 { sum += values[r * columns + c] } }
        let density = sum / Double((r1 - r0) * (c1 - c0))
        let level = density <= 0 ? 0 : min(shades.count - 1, 1 + Int(density * Double(shades.count - 2) + 0.5))
        canvas.put(x, y, shades[level], style)
      }
    }
  }
}
