/// One character cell. A wide character fills its own cell and marks the next one as a
/// continuation (scalar NUL) that renderers skip.
public struct Cell: Equatable, Sendable {
  public var scalar: Unicode.Scalar
  public var style: Style

  public init(_ scalar: Unicode.Scalar = " ", _ style: Style = .plain) {
    self.scalar = scalar
    self.style = style
  }

  static let continuation: Unicode.Scalar = "\u{0}"
  public var isContinuation: Bool { scalar == Cell.continuation }
}

/// The whole screen in memory. Widgets draw here, never on the terminal, so every screen can
/// be built and compared as text in tests; the terminal layer copies only changed cells out.
public final class CellGrid {
  public let width: Int
  public let height: Int
  public private(set) var cells: [Cell]

  public init(width: Int, height: Int, fill: Cell = Cell()) {
    self.width = max(0, width)
    self.height = max(0, height)
    cells = Array(repeating: fill, count: self.width * self.height)
  }

  public subscript(x: Int, y: Int) -> Cell {
    get { cells[y * width + x] }
    set { cells[y * width + x] = newValue }
  }

  /// Sets one cell if it is on the grid; a wide scalar also claims the cell to its right.
  @inline(__always)
  func set(_ x: Int, _ y: Int, _ scalar: Unicode.Scalar, _ style: Style) {
    guard x >= 0, y >= 0, x < width, y < height else { return }
    cells[y * width + x] = Cell(scalar, style)
  }

  public func clear(_ style: Style = .plain) {
    for index in cells.indices { cells[index] = Cell(" ", style) }
  }

  /// A canvas covering the whole grid.
  public var canvas: Canvas { Canvas(grid: self, rect: Rect(x: 0, y: 0, width: width, height: height)) }

  /// The characters only, one line per row, trailing blanks trimmed: what golden tests compare.
  public func text() -> String {
    var lines: [String] = []
    lines.reserveCapacity(height)
    for y in 0..<height {
      var line = String.UnicodeScalarView()
      for x in 0..<width {
        let cell = cells[y * width + x]
        if !cell.isContinuation { line.append(cell.scalar) }
      }
      var text = String(line)
      while text.last == " " { text.removeLast() }
      lines.append(text)
    }
    return lines.joined(separator: "\n")
  }
}
