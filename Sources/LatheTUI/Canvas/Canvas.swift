/// A rectangle of a `CellGrid` that widgets draw into with coordinates relative to its corner.
/// Everything outside the rectangle is clipped, so a widget can never scribble on a neighbour.
public struct Canvas {
  public let grid: CellGrid
  /// Where this canvas sits on the grid (already clipped to it).
  public let rect: Rect

  public init(grid: CellGrid, rect: Rect) {
    self.grid = grid
    self.rect = rect.intersection(Rect(x: 0, y: 0, width: grid.width, height: grid.height))
  }

  public var width: Int { rect.width }
  public var height: Int { rect.height }

  /// A canvas for a part of this one, in this canvas's coordinates.
  public func sub(_ part: Rect) -> Canvas {
    let absolute = Rect(x: rect.x + part.x, y: rect.y + part.y, width: part.width, height: part.height)
    return Canvas(grid: grid, rect: absolute.intersection(rect))
  }

  /// The canvas less `inset` cells on every side.
  public func inset(_ inset: Int) -> Canvas {
    sub(Rect(x: inset, y: inset, width: width - 2 * inset, height: height - 2 * inset))
  }

  @inline(__always)
  public func put(_ x: Int, _ y: Int, _ scalar: Unicode.Scalar, _ style: Style) {
    guard x >= 0, y >= 0, x < rect.width, y < rect.height else { return }
    grid.set(rect.x + x, rect.y + y, scalar, style)
  }

  /// Writes text from (x, y), clipped at the right edge (or after `maxWidth` columns). Text cut
  /// short ends in `ellipsis` when one is given. Returns the column after the last character.
  @discardableResult
  public func text(
    _ x: Int, _ y: Int, _ string: String, _ style: Style, maxWidth: Int? = nil, ellipsis: Unicode.Scalar? = nil
  ) -> Int {
    guard y >= 0, y < rect.height else { return x }
    let limit = min(rect.width, maxWidth.map { x + $0 } ?? rect.width)
    var stop = limit
    if let ellipsis, CharacterWidth.of(string) > limit - x, limit > x {
      stop = limit - 1
      put(stop, y, ellipsis, style)
    }
    var column = x
    for scalar in string.unicodeScalars {
      let width = CharacterWidth.of(scalar)
      if width == 0 { continue }
      if column + width > stop { break }
      put(column, y, scalar, style)
      if width == 2 { put(column + 1, y, Cell.continuation, style) }
      column += width
    }
    return stop < limit ? limit : column
  }

  /// Fills the whole canvas (or a part) with one character.
  public func fill(_ part: Rect? = nil, _ scalar: Unicode.Scalar = " ", _ style: Style) {
    let area = (part ?? Rect(x: 0, y: 0, width: rect.width, height: rect.height))
      .intersection(Rect(x: 0, y: 0, width: rect.width, height: rect.height))
    guard area.width > 0, area.height > 0 else { return }
    for y in area.y..<area.y + area.height {
      for x in area.x..<area.x + area.width { grid.set(rect.x + x, rect.y + y, scalar, style) }
    }
  }

  /// Changes the style of cells without touching their characters (selection highlight).
  public func restyle(_ part: Rect, _ change: (Style) -> Style) {
    let area = part.intersection(Rect(x: 0, y: 0, width: rect.width, height: rect.height))
    guard area.width > 0, area.height > 0 else { return }
    for y in area.y..<area.y + area.height {
      for x in area.x..<area.x + area.width {
        var cell = grid[rect.x + x, rect.y + y]
        cell.style = change(cell.style)
        grid[rect.x + x, rect.y + y] = cell
      }
    }
  }
}
