import Foundation

/// BERT's subword model: each word becomes the longest vocabulary entry that starts it, then the
/// longest `##`-prefixed entry that continues it, and so on; a word with a part no entry covers,
/// or longer than `maxCharacters`, becomes `[UNK]` whole.
struct WordPiece: Sendable {
  var vocabulary: [String: Int]
  var unknown: Int
  var prefix: String
  var maxCharacters: Int

  func encode(_ word: String) -> [Int] {
    let scalars = Array(word.unicodeScalars)
    guard scalars.count <= maxCharacters else { return [unknown] }
    var ids: [Int] = []
    var start = 0
    while start < scalars.count {
      var end = scalars.count
      var found: Int?
      while start < end {
        var piece = String.UnicodeScalarView()
        piece.append(contentsOf: scalars[start..<end])
        let candidate = start > 0 ? prefix + String(piece) : String(piece)
        if let id = vocabulary[candidate] {
          found = id
          break
        }
        end -= 1
      }
      guard let found else { return [unknown] }
      ids.append(found)
      start = end
    }
    return ids
  }

  /// Pieces joined back: a continuation loses its prefix, any other piece gets a space before it.
  static func decode(_ tokens: [String], prefix: String, cleanup: Bool) -> String {
    var text = ""
    for (i, token) in tokens.enumerated() {
      var piece = token
      if i > 0 {
        piece = token.hasPrefix(prefix) ? String(token.dropFirst(prefix.count)) : " " + token
      }
      text += cleanup ? cleaned(piece) : piece
    }
    return text
  }

  /// The `tokenizers` WordPiece decoder's cleanup: no space before . ? ! , and English
  /// contractions rejoined.
  static func cleaned(_ text: String) -> String {
    var out = text
    for (from, to) in [
      (" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
      (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re"),
    ] {
      out = out.replacingOccurrences(of: from, with: to)
    }
    return out
  }
}
