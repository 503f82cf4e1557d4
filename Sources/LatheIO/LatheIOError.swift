import Foundation

/// Everything that can go wrong reading or writing Lathe's files.
///
/// Each message names the file, the part of it that is wrong and what was expected, so a user
/// can fix the file (or report the bug) without a debugger.
public enum LatheIOError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The file could not be opened or read at all.
  case unreadable(file: String, reason: String)
  /// The file (or its temporary sibling) could not be written.
  case unwritable(file: String, reason: String)
  /// A file larger than its kind may be (a text file people write, checked before parsing).
  case tooLarge(file: String, limit: Int)
  /// An output folder (or one of its parents) could not be made.
  case uncreatableFolder(path: String, reason: String)
  /// A field of the file holds something other than what the format allows.
  /// `field` reads as a noun phrase, e.g. `header field "fc1.weight.dtype"`.
  case invalid(file: String, field: String, expected: String, got: String)
  /// The field is well formed but names something Lathe does not handle (e.g. the BF16 dtype).
  case unsupported(file: String, field: String, value: String, supported: [String])
  /// A CSV cell that is not what its column needs.
  case badCell(file: String, line: Int, column: Int, expected: String, got: String)
  /// A dataset name that is neither a bundled dataset nor an existing path.
  case unknownDataset(name: String, known: [String])
  /// Something the caller asked to write cannot be represented in the format.
  case unencodable(what: String, reason: String)

  public var description: String {
    switch self {
    case .unreadable(let file, let reason):
      return "\(file): cannot read: \(reason)"
    case .unwritable(let file, let reason):
      return "\(file): cannot write: \(reason)"
    case .tooLarge(let file, let limit):
      return "\(file): larger than the limit of \(limit) bytes for this kind of file"
    case .uncreatableFolder(let path, let reason):
      return "cannot create folder \(path): \(reason)"
    case .invalid(let file, let field, let expected, let got):
      return "\(file): \(field): expected \(expected), got \(got)"
    case .unsupported(let file, let field, let value, let supported):
      return
        "\(file): \(field): \(value) is not supported (supported: \(supported.joined(separator: ", ")))"
    case .badCell(let file, let line, let column, let expected, let got):
      return "\(file): line \(line), column \(column): expected \(expected), got \(got)"
    case .unknownDataset(let name, let known):
      return "\(name): no such file or directory, and not a bundled dataset "
        + "(bundled: \(known.joined(separator: ", ")))"
    case .unencodable(let what, let reason):
      return "cannot encode \(what): \(reason)"
    }
  }
}

extension LatheIOError: LocalizedError {
  public var errorDescription: String? { description }
}
