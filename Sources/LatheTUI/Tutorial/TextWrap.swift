/// Word wrapping for the tutorial panel. As in Markdown, a blank line separates paragraphs and a
/// single line break is a space, so YAML `|` blocks can be wrapped however suits the editor.
enum TextWrap {
  static func lines(_ text: String, width: Int) -> [String] {
    guard width > 0 else { return [] }
    var result: [String] = []
    let paragraphs = text.components(separatedBy: "\n\n").map { $0.replacingOccurrences(of: "\n", with: " ") }
    for (number, paragraph) in paragraphs.enumerated() {
      if number > 0 { result.append("") }
      var line = ""
      for word in paragraph.split(separator: " ") {
        var word = String(word)
        while CharacterWidth.of(word) > width {
          if !line.isEmpty {
            result.append(line)
            line = ""
          }
          result.append(String(word.prefix(width)))
          word = String(word.dropFirst(width))
        }
        if line.isEmpty {
          line = word
        } else if CharacterWidth.of(line) + 1 + CharacterWidth.of(word) <= width {
          line += " " + word
        } else {
          result.append(line)
          line = word
        }
      }
      result.append(line)
    }
    return result
  }
}
