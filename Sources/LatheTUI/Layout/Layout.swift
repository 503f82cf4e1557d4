/// How much room a box asks for along its parent's direction.
public enum BoxSize: Equatable, Sendable {
  /// Exactly this many cells (less if the parent runs out).
  case fixed(Int)
  /// A share of what the fixed boxes leave, in proportion to the other weights.
  case weight(Int)
}

/// Layout as nested boxes (lazygit's window arrangement): a tree of rows and columns whose
/// leaves are named panels. It is recomputed from scratch on every frame, so resizing is free.
public indirect enum LayoutBox: Equatable, Sendable {
  case panel(String, BoxSize)
  /// Children side by side, left to right.
  case row([LayoutBox], BoxSize)
  /// Children stacked, top to bottom.
  case column([LayoutBox], BoxSize)

  var size: BoxSize {
    switch self {
    case .panel(_, let size), .row(_, let size), .column(_, let size): return size
    }
  }
}

public enum Layout {
  /// The rectangle of every named panel when `box` fills `rect`.
  public static func arrange(_ box: LayoutBox, in rect: Rect) -> [String: Rect] {
    var result: [String: Rect] = [:]
    place(box, in: rect, into: &result)
    return result
  }

  private static func place(_ box: LayoutBox, in rect: Rect, into result: inout [String: Rect]) {
    switch box {
    case .panel(let name, _):
      result[name] = rect
    case .row(let children, _):
      var x = rect.x
      for (child, width) in zip(children, split(rect.width, children.map(\.size))) {
        place(child, in: Rect(x: x, y: rect.y, width: width, height: rect.height), into: &result)
        x += width
      }
    case .column(let children, _):
      var y = rect.y
      for (child, height) in zip(children, split(rect.height, children.map(\.size))) {
        place(child, in: Rect(x: rect.x, y: y, width: rect.width, height: height), into: &result)
        y += height
      }
    }
  }

  /// Divides `length` cells among `sizes`: fixed sizes first (in order, while room lasts), then
  /// the rest by weight, with rounding leftovers going to the earliest weighted boxes.
  public static func split(_ length: Int, _ sizes: [BoxSize]) -> [Int] {
    var remaining = max(0, length)
    var result = Array(repeating: 0, count: sizes.count)
    for (index, size) in sizes.enumerated() {
      if case .fixed(let cells) = size {
        result[index] = min(max(0, cells), remaining)
        remaining -= result[index]
      }
    }
    let totalWeight = sizes.reduce(0) { sum, size in
      if case .weight(let weight) = size { return sum + max(0, weight) }
      return sum
    }
    guard totalWeight > 0 else { return result }
    var given = 0
    for (index, size) in sizes.enumerated() {
      if case .weight(let weight) = size {
        result[index] = remaining * max(0, weight) / totalWeight
        given += result[index]
      }
    }
    var leftover = remaining - given
    for (index, size) in sizes.enumerated() where leftover > 0 {
      if case .weight = size {
        result[index] += 1
        leftover -= 1
      }
    }
    return result
  }
}
