import Foundation

/// A Hugging Face tokenizer read from tokenizer.json: text to token ids and back, for the two
/// families Lathe opens: BERT's WordPiece (BertNormalizer, BertPreTokenizer, [CLS] … [SEP]) and
/// GPT-2's byte-level BPE. `encode` gives what `tokenizers`' `encode(text).ids` gives with
/// padding off: added tokens ([CLS], <|endoftext|>) found in the text first, the rest
/// normalised, cut into words, split into subwords, truncated to the file's `max_length`, and
/// wrapped by the post-processor.
///
/// Not read: padding (datasets pad), pair templates (one text at a time), added tokens'
/// `lstrip`/`rstrip`/`single_word` options, and other normalizers, pre-tokenizers and models
/// (Unigram, Metaspace), which are errors naming the field.
public struct Tokenizer: Sendable {
  enum Subwords: Sendable {
    case wordPiece(WordPiece)
    case bpe(BytePairEncoding)
  }

  enum Words: Sendable {
    case bert
    case byteLevel(addPrefixSpace: Bool)
    /// The text as one word.
    case whole
  }

  enum Decoding: Sendable {
    case wordPiece(prefix: String, cleanup: Bool)
    case byteLevel
    /// Tokens joined with spaces.
    case plain
  }

  struct AddedToken: Sendable {
    var content: String
    var id: Int
    var special: Bool
  }

  var subwords: Subwords
  var normalizer: BertNormalizer?
  var words: Words
  var decoding: Decoding
  /// Added tokens, longest first, so "<|endoftext|>" wins over a shorter one at the same place.
  var added: [AddedToken]
  /// Ids the post-processor puts before and after the sequence ([CLS] and [SEP]).
  var prefix: [Int]
  var suffix: [Int]
  /// The longest encoding, post-processor's tokens included; nil: no truncation.
  var maxLength: Int?
  /// Every token by id, for decoding.
  var tokens: [Int: String]

  /// Entries in the vocabulary, added tokens included: the smallest embedding table that holds
  /// every id.
  public var vocabularySize: Int { (tokens.keys.max() ?? -1) + 1 }

  /// The id of a token string (a vocabulary entry or an added token), if it has one.
  public func id(of token: String) -> Int? {
    if let added = added.first(where: { $0.content == token }) { return added.id }
    switch subwords {
    case .wordPiece(let model): return model.vocabulary[token]
    case .bpe(let model): return model.vocabulary[token]
    }
  }

  public func encode(_ text: String) -> [Int] {
    var ids: [Int] = []
    for segment in segments(text) {
      switch segment {
      case .added(let id): ids.append(id)
      case .text(let text): ids += encodeText(text)
      }
    }
    if let maxLength { ids = Array(ids.prefix(max(0, maxLength - prefix.count - suffix.count))) }
    return prefix + ids + suffix
  }

  /// Ids back to text, special tokens left out (as `tokenizers`' decode does by default).
  public func decode(_ ids: [Int], skippingSpecialTokens: Bool = true) -> String {
    let special = Set(added.filter(\.special).map(\.id))
    let pieces = ids.filter { !(skippingSpecialTokens && special.contains($0)) }.compactMap { tokens[$0] }
    switch decoding {
    case .wordPiece(let prefix, let cleanup): return WordPiece.decode(pieces, prefix: prefix, cleanup: cleanup)
    case .byteLevel: return ByteLevel.text(pieces)
    case .plain: return pieces.joined(separator: " ")
    }
  }

  private enum Segment {
    case added(Int)
    case text(String)
  }

  /// The text cut at each added token found in it.
  private func segments(_ text: String) -> [Segment] {
    guard !added.isEmpty else { return [.text(text)] }
    var out: [Segment] = []
    var rest = Substring(text)
    while !rest.isEmpty {
      var earliest: (range: Range<Substring.Index>, token: AddedToken)?
      for token in added {
        if let range = rest.range(of: token.content, options: .literal),
          earliest.map({ range.lowerBound < $0.range.lowerBound }) ?? true
        {
          earliest = (range, token)
        }
      }
      guard let earliest else {
        out.append(.text(String(rest)))
        break
      }
      if earliest.range.lowerBound > rest.startIndex {
        out.append(.text(String(rest[rest.startIndex..<earliest.range.lowerBound])))
      }
      out.append(.added(earliest.token.id))
      rest = rest[earliest.range.upperBound...]
    }
    return out
  }

  private func encodeText(_ text: String) -> [Int] {
    let normalized = normalizer?.normalize(text) ?? text
    switch words {
    case .bert: return BertText.words(normalized).flatMap(subwordIDs)
    case .whole: return normalized.isEmpty ? [] : subwordIDs(normalized)
    case .byteLevel(let addPrefixSpace):
      let spaced = addPrefixSpace && !normalized.hasPrefix(" ") ? " " + normalized : normalized
      return ByteLevel.pieces(spaced).flatMap { subwordIDs(ByteLevel.spelled($0)) }
    }
  }

  private func subwordIDs(_ word: String) -> [Int] {
    switch subwords {
    case .wordPiece(let model): return model.encode(word)
    case .bpe(let model): return model.encode(word)
    }
  }
}
