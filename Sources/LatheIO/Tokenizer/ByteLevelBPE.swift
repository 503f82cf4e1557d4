/// GPT-2's byte-level byte-pair encoding: text split by GPT-2's pattern, each piece's UTF-8
/// bytes spelled as printable characters (the byte-to-unicode table), then adjacent symbols
/// merged, lowest merge rank first, until no listed pair is left.
struct BytePairEncoding: Sendable {
  struct Pair: Hashable, Sendable {
    var left: String
    var right: String
  }

  var vocabulary: [String: Int]
  /// Each mergeable pair's rank: its line in the merges list.
  var ranks: [Pair: Int]
  var unknown: Int?
  /// Whether a piece that is a vocabulary entry as a whole skips merging (Llama 3's setting).
  var ignoreMerges = false

  /// The ids of one pre-token, already spelled with the byte table.
  func encode(_ piece: String) -> [Int] {
    if ignoreMerges, let id = vocabulary[piece] { return [id] }
    var symbols = piece.unicodeScalars.map { String($0) }
    while symbols.count > 1 {
      var best: (rank: Int, index: Int)?
      for i in 0..<(symbols.count - 1) {
        if let rank = ranks[Pair(left: symbols[i], right: symbols[i + 1])], rank < best?.rank ?? Int.max {
          best = (rank, i)
        }
      }
      guard let best else { break }
      // Every occurrence of the pair merges in one pass, left to right, as `tokenizers` does.
      let (left, right) = (symbols[best.index], symbols[best.index + 1])
      var merged: [String] = []
      merged.reserveCapacity(symbols.count)
      var i = 0
      while i < symbols.count {
        if i + 1 < symbols.count && symbols[i] == left && symbols[i + 1] == right {
          merged.append(left + right)
          i += 2
        } else {
          merged.append(symbols[i])
          i += 1
        }
      }
      symbols = merged
    }
    return symbols.compactMap { vocabulary[$0] ?? unknown }
  }
}

/// GPT-2's byte-level pieces: the byte-to-unicode table and the pre-tokenizer pattern.
enum ByteLevel {
  /// Byte b as a printable character: the printable Latin-1 bytes stand for themselves, the
  /// other 68 are moved to U+0100 onwards (GPT-2's bytes_to_unicode), so no byte is whitespace
  /// or a control character in the vocabulary.
  static let characters: [Unicode.Scalar] = {
    var table = [Unicode.Scalar](repeating: " ", count: 256)
    var next: UInt32 = 256
    for b in 0..<256 {
      let printable = (0x21...0x7e).contains(b) || (0xa1...0xac).contains(b) || (0xae...0xff).contains(b)
      if printable {
        table[b] = Unicode.Scalar(UInt32(b))!
      } else {
        table[b] = Unicode.Scalar(next)!
        next += 1
      }
    }
    return table
  }()

  static let bytes: [Unicode.Scalar: UInt8] = Dictionary(
    uniqueKeysWithValues: characters.enumerated().map { ($1, UInt8($0)) })

  /// A piece's UTF-8 bytes spelled with the table.
  static func spelled(_ piece: Substring.UnicodeScalarView) -> String {
    var out = String.UnicodeScalarView()
    for byte in String(piece).utf8 { out.append(characters[Int(byte)]) }
    return String(out)
  }

  /// Characters back to bytes, then UTF-8 (invalid sequences as U+FFFD, as Rust's
  /// from_utf8_lossy); characters outside the table are kept as they are.
  static func text(_ tokens: [String]) -> String {
    var data: [UInt8] = []
    for token in tokens {
      for c in token.unicodeScalars {
        if let byte = bytes[c] { data.append(byte) } else { data += Array(String(c).utf8) }
      }
    }
    return String(decoding: data, as: UTF8.self)
  }

  /// The pieces GPT-2's pattern cuts text into:
  /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
  /// scanned by hand (the alternatives in order, each greedy).
  static func pieces(_ text: String) -> [Substring.UnicodeScalarView] {
    let all = Substring(text).unicodeScalars
    let s = Array(all)
    var indices = Array(all.indices)
    indices.append(all.endIndex)
    var cuts: [Substring.UnicodeScalarView] = []
    var i = 0
    func run(from start: Int, while test: (Unicode.Scalar) -> Bool) -> Int {
      var j = start
      while j < s.count && test(s[j]) { j += 1 }
      return j
    }
    while i < s.count {
      var end = i
      if s[i] == "'", let suffix = contraction(s, after: i) {
        end = i + 1 + suffix
      } else {
        let start = s[i] == " " && i + 1 < s.count ? i + 1 : i
        let c = s[start]
        if isLetter(c) {
          end = run(from: start, while: isLetter)
        } else if isNumber(c) {
          end = run(from: start, while: isNumber)
        } else if !isSpace(c) {
          end = run(from: start) { !isSpace($0) && !isLetter($0) && !isNumber($0) }
        } else {
          // Whitespace: the run, less its last character when text follows it (that one starts
          // the next piece, " word"); a single space before text is a piece of its own.
          let stop = run(from: i, while: isSpace)
          end = stop == s.count || stop - i == 1 ? stop : stop - 1
        }
      }
      cuts.append(all[indices[i]..<indices[end]])
      i = end
    }
    return cuts
  }

  /// The length of 's 't 're 've 'm 'll 'd after the apostrophe at i, if one follows.
  private static func contraction(_ s: [Unicode.Scalar], after i: Int) -> Int? {
    for suffix in ["s", "t", "re", "ve", "m", "ll", "d"] {
      let letters = Array(suffix.unicodeScalars)
      if i + letters.count < s.count, Array(s[(i + 1)..<min(s.count, i + 1 + letters.count)]) == letters {
        return letters.count
      }
    }
    return nil
  }

  static func isLetter(_ c: Unicode.Scalar) -> Bool {
    switch c.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
    default: return false
    }
  }

  static func isNumber(_ c: Unicode.Scalar) -> Bool {
    switch c.properties.generalCategory {
    case .decimalNumber, .letterNumber, .otherNumber: return true
    default: return false
    }
  }

  static func isSpace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }
}
