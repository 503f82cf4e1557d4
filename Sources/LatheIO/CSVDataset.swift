import Foundation

/// A numeric table read from CSV: one example per row, the integer class label in the last
/// column and the features before it.
public struct CSVTable: Sendable, Equatable {
  public var rowCount: Int
  /// Columns per row, less the label.
  public var featureCount: Int
  /// The features, row-major: `rowCount × featureCount` values.
  public var features: [Float]
  public var labels: [Int]

  public init(rowCount: Int, featureCount: Int, features: [Float], labels: [Int]) {
    self.rowCount = rowCount
    self.featureCount = featureCount
    self.features = features
    self.labels = labels
  }
}

/// Numeric CSV files, optionally gzipped. Plain comma-separated numbers: a first line with any
/// non-numeric cell is taken as a header and skipped; blank lines and `\r\n` endings are fine;
/// cells may be wrapped in double quotes but may not contain commas.
public enum CSVDataset {
  public static func read(from url: URL) throws -> CSVTable {
    try decode(try Gzip.readMaybeCompressed(url), file: url.path)
  }

  /// Parses a CSV file's bytes; `file` names it in error messages.
  public static func decode(_ bytes: [UInt8], file: String) throws -> CSVTable {
    try bytes.withUnsafeBufferPointer { text in
      var parser = Parser(text: text, file: file)
      return try parser.parse()
    }
  }

  /// Walks the bytes once, line by line and cell by cell, without building strings for the
  /// common case of plain integers (a 5000-row MNIST CSV has four million cells).
  private struct Parser {
    let text: UnsafeBufferPointer<UInt8>
    let file: String
    var columnCount = 0
    /// The line that set `columnCount`, for error messages.
    var firstDataLine = 0
    var features: [Float] = []
    var labels: [Int] = []
    var row: [Double] = []

    init(text: UnsafeBufferPointer<UInt8>, file: String) {
      self.text = text
      self.file = file
    }

    mutating func parse() throws -> CSVTable {
      var lineStart = 0
      var lineNumber = 0
      var sawFirstLine = false
      while lineStart < text.count {
        lineNumber += 1
        var lineEnd = lineStart
        while lineEnd < text.count && text[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
        defer { lineStart = lineEnd + 1 }
        var end = lineEnd
        if end > lineStart && text[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        if (lineStart..<end).allSatisfy({ isSpace(text[$0]) }) { continue }

        let isFirst = !sawFirstLine
        sawFirstLine = true
        let badCell = splitNumbers(lineStart..<end)
        if let badCell {
          if isFirst { continue }  // a header line
          throw LatheIOError.badCell(
            file: file, line: lineNumber, column: badCell.column, expected: "a number",
            got: badCell.text)
        }
        try addRow(line: lineNumber)
      }
      guard !labels.isEmpty else {
        throw LatheIOError.invalid(
          file: file, field: "rows", expected: "at least one row of numbers", got: "none")
      }
      return CSVTable(
        rowCount: labels.count, featureCount: columnCount - 1, features: features, labels: labels)
    }

    /// Fills `row` with the line's numbers; returns the first cell that is not a number.
    private mutating func splitNumbers(_ line: Range<Int>) -> (column: Int, text: String)? {
      row.removeAll(keepingCapacity: true)
      var cellStart = line.lowerBound
      for i in line.lowerBound...line.upperBound
      where i == line.upperBound || text[i] == UInt8(ascii: ",") {
        guard let value = number(cellStart..<i) else {
          let cell = String(
            decoding: UnsafeBufferPointer(rebasing: text[cellStart..<i]), as: UTF8.self)
          return (row.count + 1, cell.count <= 40 ? "\"\(cell)\"" : "\"\(cell.prefix(37))...\"")
        }
        row.append(value)
        cellStart = i + 1
      }
      return nil
    }

    private mutating func addRow(line: Int) throws {
      if columnCount == 0 {
        guard row.count >= 2 else {
          throw LatheIOError.invalid(
            file: file, field: "line \(line)",
            expected: "at least two columns (features, then the label)",
            got: "\(row.count) column")
        }
        columnCount = row.count
        firstDataLine = line
      }
      guard row.count == columnCount else {
        throw LatheIOError.invalid(
          file: file, field: "line \(line)",
          expected: "\(columnCount) columns, like line \(firstDataLine)",
          got: "\(row.count) columns")
      }
      let label = row[columnCount - 1]
      guard label >= 0, label <= Double(Int32.max), label == label.rounded() else {
        throw LatheIOError.badCell(
          file: file, line: line, column: columnCount,
          expected: "an integer class label, 0 or more",
          got: "\(label)")
      }
      labels.append(Int(label))
      for value in row.dropLast() { features.append(Float(value)) }
    }

    /// The cell's value, or nil when it is not a finite number.
    private func number(_ cell: Range<Int>) -> Double? {
      var start = cell.lowerBound
      var end = cell.upperBound
      while start < end && isSpace(text[start]) { start += 1 }
      while end > start && isSpace(text[end - 1]) { end -= 1 }
      if end - start >= 2 && text[start] == UInt8(ascii: "\"")
        && text[end - 1] == UInt8(ascii: "\"")
      {
        start += 1
        end -= 1
      }
      guard start < end else { return nil }
      // Fast path: up to nine decimal digits.
      if end - start <= 9 {
        var value = 0
        var digitsOnly = true
        for i in start..<end {
          let digit = text[i] &- UInt8(ascii: "0")
          if digit > 9 {
            digitsOnly = false
            break
          }
          value = value * 10 + Int(digit)
        }
        if digitsOnly { return Double(value) }
      }
      let string = String(decoding: UnsafeBufferPointer(rebasing: text[start..<end]), as: UTF8.self)
      guard let value = Double(string), value.isFinite else { return nil }
      return value
    }

    private func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
  }
}
