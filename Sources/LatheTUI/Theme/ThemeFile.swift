import Foundation

/// Something in a theme file that was skipped; the app logs these, they never stop it.
public struct ThemeWarning: Equatable, Sendable, CustomStringConvertible {
  public var line: Int
  public var message: String
  public init(line: Int, message: String) {
    self.line = line
    self.message = message
  }
  public var description: String { "line \(line): \(message)" }
}

/// Reads btop-style theme files: one `theme[key]="#RRGGBB"` per line, `#` comments, an empty
/// value for the terminal's default colour. Keys the file leaves out keep the built-in colour.
public enum ThemeFile {
  public static func parse(_ text: String, name: String, base: Theme = .builtIn) -> (Theme, [ThemeWarning]) {
    var theme = base
    theme.name = name
    var warnings: [ThemeWarning] = []
    for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let lineNumber = offset + 1
      let line = rawLine.trimmingCharacters(in: .whitespaces)
      if line.isEmpty || line.hasPrefix("#") { continue }
      guard let (key, value) = splitAssignment(line) else {
        warnings.append(ThemeWarning(line: lineNumber, message: "expected theme[key]=\"#RRGGBB\", got \(line)"))
        continue
      }
      guard let role = ThemeColor(rawValue: key) else {
        warnings.append(ThemeWarning(line: lineNumber, message: "unknown key \(key)"))
        continue
      }
      if value.isEmpty {
        theme[role] = nil
      } else if let color = RGB(hex: value) {
        theme[role] = color
      } else {
        warnings.append(ThemeWarning(line: lineNumber, message: "bad colour \"\(value)\" for \(key)"))
      }
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
