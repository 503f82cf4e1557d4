import Foundation
import LatheIO

/// Something in a theme file that was skipped; the app logs these, they never stop it.
public struct ThemeWarning: Equatable, Sendable, CustomStringConvertible {
  public var line: Int
  public var message: String
  /// The theme file, when the text came from one.
  public var file: String?
  public init(line: Int, message: String, file: String? = nil) {
    self.line = line
    self.message = message
    self.file = file
  }
  /// One line, whatever the file held: control characters it echoes are escaped (fuzz-found).
  public var description: String {
    guard let file else { return OneLine.escaping("line \(line): \(message)") }
    return OneLine.escaping(line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)")
  }
}

/// Reads btop-style theme files: one `theme[key]="#RRGGBB"` per line, `#` comments, an empty
/// value for the terminal's default colour. Keys the file leaves out keep the built-in colour.
public enum ThemeFile {
  /// Far above the ~30 lines a theme has: a bigger file is not a theme, and reading one (140 MB
  /// was seen) stalls start-up.
  public static let maxBytes = 1 << 20
  /// Warnings kept per file; the rest are counted in one last warning, so garbage cannot flood the log.
  public static let maxWarnings = 20
  /// A theme line is short; longer ones are reported by length, not echoed.
  static let maxShownLine = 80

  public static func parse(
    _ text: String, name: String, base: Theme = .builtIn, file: String? = nil
  ) -> (Theme, [ThemeWarning]) {
    var theme = base
    theme.name = name
    var warnings: [ThemeWarning] = []
    var dropped = 0
    func warn(_ line: Int, _ message: String) {
      if warnings.count < maxWarnings {
        warnings.append(ThemeWarning(line: line, message: message, file: file))
      } else {
        dropped += 1
      }
    }
    for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let lineNumber = offset + 1
      // A file saved with Windows line endings is the same theme: its lines end in "\r".
      let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
      if line.isEmpty || line.hasPrefix("#") { continue }
      if line.utf8.count > maxShownLine * 4 {
        warn(lineNumber, "a line of \(line.utf8.count) bytes; expected theme[key]=\"#RRGGBB\"")
        continue
      }
      guard let (key, value) = splitAssignment(line) else {
        warn(lineNumber, "expected theme[key]=\"#RRGGBB\", got \(line.prefix(maxShownLine))")
        continue
      }
      guard let role = ThemeColor(rawValue: key) else {
        warn(lineNumber, "unknown key \(key.prefix(maxShownLine))")
        continue
      }
      if value.isEmpty {
        theme[role] = nil
      } else if let color = RGB(hex: value) {
        theme[role] = color
      } else {
        warn(lineNumber, "bad colour \"\(value.prefix(maxShownLine))\" for \(key)")
      }
    }
    if dropped > 0 {
      warnings.append(ThemeWarning(line: 0, message: "\(dropped) more lines skipped", file: file))
    }
    return (theme, warnings)
  }

  /// `theme[key] = "value"` into (key, value). Quotes are optional, spaces around `=` allowed,
  /// and a `# comment` may follow the value.
  private static func splitAssignment(_ line: String) -> (String, String)? {
    guard line.hasPrefix("theme["), let close = line.firstIndex(of: "]") else { return nil }
    let key = line[line.index(line.startIndex, offsetBy: 6)..<close].trimmingCharacters(in: .whitespaces)
    let rest = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
    guard !key.isEmpty, rest.hasPrefix("=") else { return nil }
    let valuePart = rest.dropFirst().trimmingCharacters(in: .whitespaces)
    let value: String
    let trailing: Substring
    if valuePart.hasPrefix("\"") {
      let body = valuePart.dropFirst()
      guard let end = body.firstIndex(of: "\"") else { return nil }
      value = String(body[..<end])
      trailing = body[body.index(after: end)...]
    } else {
      let end = valuePart.firstIndex(where: { $0 == " " || $0 == "\t" }) ?? valuePart.endIndex
      value = String(valuePart[..<end])
      trailing = valuePart[end...]
    }
    let comment = trailing.trimmingCharacters(in: .whitespaces)
    guard comment.isEmpty || comment.hasPrefix("#") else { return nil }
    return (key, value.trimmingCharacters(in: .whitespaces))
  }

  /// Writes a theme back in the file format, every key in `ThemeColor` order.
  public static func format(_ theme: Theme) -> String {
    var lines = ["# Lathe theme \"\(theme.name)\""]
    for role in ThemeColor.allCases {
      lines.append("theme[\(role.rawValue)]=\"\(theme[role].map(\.description) ?? "")\"")
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
