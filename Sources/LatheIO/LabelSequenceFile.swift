import Foundation

/// Expected label sequences for a sequence model's examples (what each image of an OCR set
/// reads, as class indices), scored against CTC decoding by `lathe eval --ctc-labels`.
///
/// One line per example, in dataset order: class indices (integers ≥ 0) separated by spaces or
/// tabs; lines end with "\n" or "\r\n". An empty line is an empty sequence; a final newline
/// ends the last line and adds none.
public enum LabelSequenceFile {
  /// Far above any test split's labels, low enough that a wrong path (a device, a huge file)
  /// fails quickly.
  public static let maxBytes = 64 << 20

  public static func read(_ url: URL) throws(LatheIOError) -> [[Int]] {
    try parse(TextFile.read(url, limit: maxBytes), file: url.path)
  }

  /// The sequences in `text`; `file` names it in errors.
  public static func parse(_ text: String, file: String) throws(LatheIOError) -> [[Int]] {
    // By Character: "\r\n" (a file written on Windows) is one newline Character, not "\r" then "\n".
    var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
    if lines.last?.isEmpty == true { lines.removeLast() }
    var sequences: [[Int]] = []
    sequences.reserveCapacity(lines.count)
    for (index, line) in lines.enumerated() {
      var labels: [Int] = []
      for (column, token) in line.split(whereSeparator: { $0 == " " || $0 == "\t" }).enumerated() {
        guard let label = Int(token), label >= 0 else {
          throw .badCell(
            file: file, line: index + 1, column: column + 1, expected: "a class index (an integer ≥ 0)",
            got: "\"\(token.prefix(40))\"")
        }
        labels.append(label)
      }
      sequences.append(labels)
    }
    return sequences
  }
}
