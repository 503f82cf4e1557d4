/// Columns padded to their widest cell, a rule under the header; `rightAligned` columns hold
/// numbers, which read best lined up on their last digit.
struct TextTable {
  var header: [String]
  var rows: [[String]]
  var rightAligned: Set<Int> = []
  /// A totals row, set off by a second rule.
  var footer: [String]? = nil

  func lines() -> [String] {
    let all = [header] + rows + (footer.map { [$0] } ?? [])
    let widths = header.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
    func line(_ cells: [String]) -> String {
      let padded = cells.enumerated().map { i, cell in
        let pad = String(repeating: " ", count: max(0, widths[i] - cell.count))
        return rightAligned.contains(i) ? pad + cell : cell + pad
      }
      return String(padded.joined(separator: "  ").reversed().drop { $0 == " " }.reversed())
    }
    let rule = widths.map { String(repeating: "─", count: $0) }.joined(separator: "  ")
    return [line(header), rule] + rows.map(line) + (footer.map { [rule, line($0)] } ?? [])
  }
}

/// A shape as `[1,3,224,224]`.
func shapeText<T: CustomStringConvertible>(_ shape: [T]) -> String {
  "[" + shape.map(\.description).joined(separator: ",") + "]"
}
