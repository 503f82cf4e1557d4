import Foundation

// BERT's text handling as the `tokenizers` library does it (normalizers/bert.rs and
// pre_tokenizers/bert.rs): character classes by Unicode scalar, as Rust's `char` sees them.

/// BertNormalizer: control characters dropped and whitespace made spaces (clean_text), CJK
/// ideographs padded with spaces (handle_chinese_chars), accents stripped (NFD, then
/// non-spacing marks dropped; by default when lowercasing), lower case.
struct BertNormalizer: Sendable, Equatable {
  var cleanText = true
  var handleChineseChars = true
  /// nil: strip when lowercasing, as `tokenizers` does.
  var stripAccents: Bool? = nil
  var lowercase = true

  func normalize(_ text: String) -> String {
    var scalars: [Unicode.Scalar] = []
    scalars.reserveCapacity(text.unicodeScalars.count)
    for c in text.unicodeScalars {
      if cleanText {
        if c.value == 0 || c.value == 0xfffd || BertText.isControl(c) { continue }
        if BertText.isWhitespace(c) {
          scalars.append(" ")
          continue
        }
      }
      if handleChineseChars && BertText.isChinese(c) {
        scalars += [" ", c, " "]
      } else {
        scalars.append(c)
      }
    }
    if stripAccents ?? lowercase {
      var joined = String.UnicodeScalarView()
      joined.append(contentsOf: scalars)
      scalars = String(joined).decomposedStringWithCanonicalMapping.unicodeScalars.filter {
        $0.properties.generalCategory != .nonspacingMark
      }
    }
    var out = String.UnicodeScalarView()
    for c in scalars {
      if lowercase {
        out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
      } else {
        out.append(c)
      }
    }
    return String(out)
  }
}

enum BertText {
  /// Rust's `char::is_whitespace` (the White_Space property), tab and newlines included.
  static func isWhitespace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }

  /// Other (C*) characters but tab and newlines: control, format, unassigned, private use.
  static func isControl(_ c: Unicode.Scalar) -> Bool {
    if c == "\t" || c == "\n" || c == "\r" { return false }
    switch c.properties.generalCategory {
    case .control, .format, .unassigned, .privateUse, .surrogate: return true
    default: return false
    }
  }

  /// BERT's CJK ranges (the CJK Unified Ideographs blocks and their extensions, compatibility
  /// ideographs); Hangul and kana are not among them.
  static func isChinese(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
      0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
      return true
    default: return false
    }
  }

  /// ASCII punctuation (which counts $, +, <, ^, ` and | that Unicode calls symbols) or any
  /// Unicode punctuation (P*).
  static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
    if c.isASCII {
      let v = c.value
      return (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v)
    }
    switch c.properties.generalCategory {
    case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
      .finalPunctuation, .otherPunctuation:
      return true
    default: return false
    }
  }

  /// BertPreTokenizer: words split at whitespace (dropped) and at each punctuation character
  /// (kept as a word of its own).
  static func words(_ text: String) -> [String] {
    var words: [String] = []
    var current = String.UnicodeScalarView()
    func flush() {
      if !current.isEmpty { words.append(String(current)) }
      current = String.UnicodeScalarView()
    }
    for c in text.unicodeScalars {
      if isWhitespace(c) {
        flush()
      } else if isPunctuation(c) {
        flush()
        words.append(String(c))
      } else {
        current.append(c)
      }
    }
    flush()
    return words
  }
}
