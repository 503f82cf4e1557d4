/// A key press or mouse click, decoded from the terminal (or made up by tests).
public enum Key: Equatable, Sendable {
  case character(Character)
  /// Ctrl plus a letter, lower case ("c" for Ctrl-C).
  case control(Character)
  case up, down, left, right, pageUp, pageDown, home, end
  case enter, escape, tab, backTab, backspace, delete
  /// The terminal changed size.
  case resize
  /// A click (button 1) or wheel (4 up, 5 down) at a cell.
  case mouse(x: Int, y: Int, button: Int)

  /// Shorthand for tests and key tables: `Key("q")`.
  public init(_ character: Character) { self = .character(character) }

  /// Up/down movement shared by every list: arrows and vi keys.
  var verticalStep: Int? {
    switch self {
    case .up, .character("k"): return -1
    case .down, .character("j"): return 1
    case .pageUp: return -10
    case .pageDown: return 10
    case .mouse(_, _, 4): return -3
    case .mouse(_, _, 5): return 3
    default: return nil
    }
  }
}
