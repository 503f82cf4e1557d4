/// One column of a `Table`.
public struct TableColumn: Sendable {
  public enum Alignment: Sendable { case left, right }
  public var title: String
  public var size: BoxSize
  public var alignment: Alignment

  public init(_ title: String, _ size: BoxSize, _ alignment: Alignment = .left) {
    self.title = title
    self.size = size
    self.alignment = alignment
  }
}

/// What a table cell shows.
public enum TableCell: Sendable {
  /// Text, in a theme role's colour (main text when nil).
  case text(String, ThemeColor? = nil)
  /// A bar of `fraction` with a short label after it ("▍  12%").
  case bar(Double, String)
}

/// A table with a header, an optional footer (totals) and a selected row kept in view.
public struct Table {
  public var columns: [TableColumn]
  public var rows: [[TableCell]]
  public var footer: [TableCell]?
  public var selected: Int?

  public init(columns: [TableColumn], rows: [[TableCell]], footer: [TableCell]? = nil, selected: Int? = nil) {
    self.columns = columns
    self.rows = rows
    self.footer = footer
    self.selected = selected
  }

  /// Index of the first visible row when `selected` must stay in a window of `visible` rows:
  /// the selection sits in the middle once the list scrolls.
  public static func scrollOffset(selected: Int?, count: Int, visible: Int) -> Int {
    guard let selected, visible > 0, count > visible else { return 0 }
    return min(max(0, selected - visible / 2), count - visible)
  }

  /// Rows start one line below the canvas top (after the header).
  public static let headerHeight = 1

  /// Draws the table; returns the scroll offset used, so clicks can be mapped back to rows.
  @discardableResult
  public func draw(_ canvas: Canvas, context: DrawContext, focused: Bool) -> Int {
    let widths = Layout.split(max(0, canvas.width - (columns.count - 1)), columns.map(\.size))
    var lefts: [Int] = []
    var x = 0
    for width in widths {
      lefts.append(x)
      x += width + 1
    }
    let headerStyle = context.style(.graphText, .bold)
    for (index, column) in columns.enumerated() {
      canvas.text(
        lefts[index], 0, Format.fit(column.title, widths[index], right: column.alignment == .right), headerStyle)
    }
    let footerHeight = footer == nil ? 0 : 1
    let visible = max(0, canvas.height - Table.headerHeight - footerHeight)
    let offset = Table.scrollOffset(selected: selected, count: rows.count, visible: visible)
    for line in 0..<min(visible, rows.count - offset) {
      let rowIndex = offset + line
      let y = Table.headerHeight + line
      drawRow(rows[rowIndex], canvas: canvas, y: y, lefts: lefts, widths: widths, context: context)
      if rowIndex == selected {
        let selectedBackground = context.theme[focused ? .selectedBackground : .meterBackground]
        canvas.restyle(Rect(x: 0, y: y, width: canvas.width, height: 1)) { style in
          var changed = style.background(selectedBackground)
          if focused { changed.attributes.insert(.bold) }
          if context.theme[.selectedBackground] == nil { changed.attributes.insert(.reverse) }
          return changed
        }
      }
    }
    if let footer {
      drawRow(footer, canvas: canvas, y: canvas.height - 1, lefts: lefts, widths: widths, context: context, bold: true)
    }
    return offset
  }

  private func drawRow(
    _ row: [TableCell], canvas: Canvas, y: Int, lefts: [Int], widths: [Int], context: DrawContext, bold: Bool = false
  ) {
    for (index, cell) in row.enumerated() where index < columns.count {
      let width = widths[index]
      guard width > 0 else { continue }
      switch cell {
      case .text(let text, let role):
        let style = context.style(role ?? .mainForeground, bold ? .bold : [])
        let right = columns[index].alignment == .right
        let length = CharacterWidth.of(text)
        let start = right && length < width ? lefts[index] + width - length : lefts[index]
        canvas.text(start, y, text, style, maxWidth: width - (start - lefts[index]), ellipsis: context.glyphs.ellipsis)
      case .bar(let fraction, let label):
        let labelWidth = CharacterWidth.of(label)
        let barWidth = max(0, width - labelWidth - 1)
        Bar.draw(
          canvas, x: lefts[index], y: y, width: barWidth, fraction: fraction, fill: context.style(.sparsity),
          empty: context.theme.style(.inactive, on: .meterBackground), glyphs: context.glyphs)
        canvas.text(lefts[index] + barWidth + 1, y, label, context.style(.mainForeground), maxWidth: labelWidth)
      }
    }
  }
}
