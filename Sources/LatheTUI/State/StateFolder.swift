import Foundation
import LatheIO

/// The folder where Lathe keeps what it remembers between runs: tutorial progress, recent files,
/// the theme and layout. `$XDG_STATE_HOME/lathe`, or `~/.local/state/lathe` when the variable is
/// unset or not an absolute path (the XDG base directory rules). Every state file is found here.
public struct StateFolder: Sendable, Equatable {
  public let url: URL

  public init(url: URL) { self.url = url }

  public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> StateFolder {
    let base: URL
    if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
      base = URL(fileURLWithPath: state)
    } else {
      let home = environment["HOME"] ?? NSHomeDirectory()
      base = URL(fileURLWithPath: home).appendingPathComponent(".local/state")
    }
    return StateFolder(url: base.appendingPathComponent("lathe"))
  }

  /// A file in the folder, e.g. `settings.json`.
  public func file(_ name: String) -> URL { url.appendingPathComponent(name) }
}

/// One small JSON file of remembered state. It is a convenience, never a reason to refuse to
/// start: a missing file reads as nothing remembered, a malformed one as nothing remembered plus
/// a warning that names the file and what is wrong with it. Writes are atomic (`AtomicFile`).
struct StateFile<Value: Codable> {
  let url: URL

  /// The largest file read; a state file is a few hundred bytes.
  static var maxBytes: Int { 1 << 20 }

  /// The stored value: nil without a file; nil and a warning when the file cannot be read or
  /// does not hold a `Value`.
  func load() -> (value: Value?, warning: String?) {
    guard FileManager.default.fileExists(atPath: url.path) else { return (nil, nil) }
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      return (nil, "cannot read \(url.path) (\(error.localizedDescription)); using defaults")
    }
    guard data.count <= Self.maxBytes else {
      return (nil, "\(url.path) is larger than \(Self.maxBytes) bytes; using defaults")
    }
    do {
      return (try JSONDecoder().decode(Value.self, from: data), nil)
    } catch {
      return (nil, "\(url.path) is not valid (\(Self.problem(error))); using defaults")
    }
  }

  func save(_ value: Value) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.createFolder(url.deletingLastPathComponent())
    try AtomicFile.write(try encoder.encode(value), to: url)
  }

  /// A decoding error in a line a user can act on: the field and what was expected there.
  static func problem(_ error: Error) -> String {
    func path(_ keys: [CodingKey]) -> String {
      keys.isEmpty
        ? "the top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch error as? DecodingError {
    case .typeMismatch(let type, let context): return "\(path(context.codingPath)): expected \(type)"
    case .valueNotFound(let type, let context): return "\(path(context.codingPath)): expected \(type), got null"
    case .keyNotFound(let key, let context): return "\(path(context.codingPath + [key])): missing"
    case .dataCorrupted(let context):
      return context.codingPath.isEmpty ? "not JSON" : "\(path(context.codingPath)): \(context.debugDescription)"
    default: return "\(error)"
    }
  }
}
