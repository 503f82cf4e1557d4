/// The characters widgets draw with: box drawing, blocks and braille when the locale is UTF-8,
/// plain ASCII otherwise (a "C" locale or a serial console would show garbage instead).
public struct Glyphs: Sendable {
  public let isUnicode: Bool
  public let horizontal: Unicode.Scalar
  public let vertical: Unicode.Scalar
  public let topLeft: Unicode.Scalar
  public let topRight: Unicode.Scalar
  public let bottomLeft: Unicode.Scalar
  public let bottomRight: Unicode.Scalar
  /// Heavier lines for the focused panel, so focus shows even without colour.
  public let focusHorizontal: Unicode.Scalar
  public let focusVertical: Unicode.Scalar
  public let focusTopLeft: Unicode.Scalar
  public let focusTopRight: Unicode.Scalar
  public let focusBottomLeft: Unicode.Scalar
  public let focusBottomRight: Unicode.Scalar
  /// Axis corner and tick.
  public let axisCorner: Unicode.Scalar
  public let axisTick: Unicode.Scalar
  /// Horizontal bar fill in eighths: index 0 is empty, 8 is a full cell.
  public let eighths: [Unicode.Scalar]
  /// Vertical bar fill in eighths, bottom up.
  public let verticalEighths: [Unicode.Scalar]
  /// Density from empty to full in five steps.
  public let shades: [Unicode.Scalar]
  public let ellipsis: Unicode.Scalar
  public let point: Unicode.Scalar
  /// A point on the Pareto front; `best` the front's best trial (a glyph of its own, so the
  /// table and the chart mean the same thing by each).
  public let frontPoint: Unicode.Scalar
  public let best: Unicode.Scalar
  public let pointer: Unicode.Scalar
  public let spinner: [Unicode.Scalar]
  public let check: Unicode.Scalar
  public let cross: Unicode.Scalar
  public let pendingMark: Unicode.Scalar
  /// After the title of the column a table is sorted by: ascending, descending.
  public let sortUp: Unicode.Scalar
  public let sortDown: Unicode.Scalar

  public static let unicode = Glyphs(
    isUnicode: true, horizontal: "─", vertical: "│", topLeft: "╭", topRight: "╮", bottomLeft: "╰",
    bottomRight: "╯", focusHorizontal: "━", focusVertical: "┃", focusTopLeft: "┏", focusTopRight: "┓",
    focusBottomLeft: "┗", focusBottomRight: "┛", axisCorner: "└", axisTick: "┤",
    eighths: [" ", "▏", "▎", "▍", "▌", "▋", "▊", "▉", "█"],
    verticalEighths: [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"],
    shades: [" ", "░", "▒", "▓", "█"], ellipsis: "…", point: "•", frontPoint: "◆", best: "★",
    pointer: "▶",
    spinner: ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"], check: "✓", cross: "✗", pendingMark: "·",
    sortUp: "▲", sortDown: "▼")

  public static let ascii = Glyphs(
    isUnicode: false, horizontal: "-", vertical: "|", topLeft: "+", topRight: "+", bottomLeft: "+",
    bottomRight: "+", focusHorizontal: "=", focusVertical: "#", focusTopLeft: "#", focusTopRight: "#",
    focusBottomLeft: "#", focusBottomRight: "#", axisCorner: "+", axisTick: "+",
    eighths: [" ", " ", " ", " ", "=", "=", "=", "=", "#"],
    verticalEighths: [" ", " ", ".", ".", ":", ":", "|", "|", "#"],
    shades: [" ", ".", ":", "o", "#"], ellipsis: "~", point: "o", frontPoint: "*", best: "@",
    pointer: ">",
    spinner: ["|", "/", "-", "\\"], check: "+", cross: "x", pendingMark: ".",
    sortUp: "^", sortDown: "v")
}
