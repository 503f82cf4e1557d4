/// Error messages are one line (the command line prints them so, scripts read them so), but
/// they echo names and values from damaged files, which may hold line breaks and other control
/// characters. `OneLine.escaping` shows those escaped: `\n`, `\r`, `\t`, `\u{7}`.
public enum OneLine {
  public static func escaping(_ text: String) -> String {
    guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
    var result = ""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\n": result += "\\n"
      case "\r": result += "\\r"
      case "\t": result += "\\t"
      case _ where scalar.properties.generalCategory == .control:
        result += "\\u{\(String(scalar.value, radix: 16))}"
      default: result.unicodeScalars.append(scalar)
      }
    }
    return result
  }
}
