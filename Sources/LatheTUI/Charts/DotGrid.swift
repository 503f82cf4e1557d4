/// A plot surface with more dots than cells: 2x4 per cell with braille (btop's graphs), 1x2
/// per cell in ASCII (`'`, `.`, `:`). Lines are drawn dot by dot, then the grid is written out
/// one glyph per cell, coloured by the last series that touched the cell.
public struct DotGrid {
  public let columns: Int
  public let rows: Int
  public let glyphs: Glyphs
  /// Dots per cell horizontally and vertically.
  public let dotsAcross: Int
  public let dotsDown: Int
  private var bits: [UInt8]
  private var colors: [RGB?]
  private var touched: [Bool]

  public init(columns: Int, rows: Int, glyphs: Glyphs) {
    self.columns = max(0, columns)
    self.rows = max(0, rows)
    self.glyphs = glyphs
    dotsAcross = glyphs.isUnicode ? 2 : 1
    dotsDown = glyphs.isUnicode ? 4 : 2
    bits = Array(repeating: 0, count: self.columns * self.rows)
    colors = Array(repeating: nil, count: self.columns * self.rows)
    touched = Array(repeating: false, count: self.columns * self.rows)
  }

  /// Dots across and down the whole grid.
  public var width: Int { columns * dotsAcross }
  public var height: Int { rows * dotsDown }

  /// Braille dot bit for (column 0...1, row 0...3) within a cell.
  private static let brailleBits: [[UInt8]] = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]

  /// Sets the dot at (x, y), y counted from the top.
  public mutating func dot(_ x: Int, _ y: Int, color: RGB?) {
    guard x >= 0, y >= 0, x < width, y < height else { return }
    let cell = (y / dotsDown) * columns + x / dotsAcross
    if glyphs.isUnicode {
      bits[cell] |= DotGrid.brailleBits[y % 4][x % 2]
    } else {
      bits[cell] |= y % 2 == 0 ? 1 : 2
    }
    colors[cell] = color
    touched[cell] = true
  }

  /// A straight line of dots (Bresenham).
  public mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, color: RGB?) {
    var x = x0
    var y = y0
    let dx = abs(x1 - x0)
    let dy = -abs(y1 - y0)
    let stepX = x0 < x1 ? 1 : -1
    let stepY = y0 < y1 ? 1 : -1
    var error = dx + dy
    while true {
      dot(x, y, color: color)
      if x == x1 && y == y1 { break }
      let doubled = 2 * error
      if doubled >= dy {
        error += dy
        x += stepX
      }
      if doubled <= dx {
        error += dx
        y += stepY
      }
    }
  }

  /// Writes the touched cells to the canvas from (x, y), on `background`.
  public func draw(_ canvas: Canvas, x: Int, y: Int, background: RGB?) {
    for row in 0..<rows {
      for column in 0..<columns {
        let cell = row * columns + column
        guard touched[cell] else { continue }
        let scalar: Unicode.Scalar
        if glyphs.isUnicode {
          scalar = Unicode.Scalar(0x2800 + UInt32(bits[cell]))!
        } else {
          scalar = bits[cell] == 3 ? ":" : bits[cell] == 1 ? "'" : "."
        }
        canvas.put(x + column, y + row, scalar, Style(foreground: colors[cell], background: background))
      }
    }
  }
}
