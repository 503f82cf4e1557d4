import Foundation

/// Reading tokenizer.json (the `tokenizers` library's serialisation). Each part is read by its
/// "type"; one Lathe does not implement is an error naming the field and the types it knows.
extension Tokenizer {
  /// tokenizer.json files are a few megabytes (GPT-2's 1.4 MB, Llama 3's 9 MB).
  static let sizeLimit = 64 << 20

  public static func read(from url: URL) throws -> Tokenizer {
    try decode(JSONFields.read(url, limit: sizeLimit))
  }

  static func decode(_ json: JSONFields) throws -> Tokenizer {
    let model = try json.object("model")
    let subwords = try self.subwords(model)
    var tokens: [Int: String] = [:]
    switch subwords {
    case .wordPiece(let m): for (token, id) in m.vocabulary { tokens[id] = token }
    case .bpe(let m): for (token, id) in m.vocabulary { tokens[id] = token }
    }
    var added: [AddedToken] = []
    if json.has("added_tokens") {
      let list = try json.array("added_tokens")
      for index in list.indices {
        let entry = try json.object(in: "added_tokens", at: index, of: list)
        let token = AddedToken(
          content: try entry.string("content"), id: try entry.int("id", atLeast: 0),
          special: try entry.bool("special", default: false))
        guard !token.content.isEmpty else { throw entry.fail("content", expected: "a non-empty string", got: "") }
        tokens[token.id] = token.content
        added.append(token)
      }
    }
    added.sort { $0.content.unicodeScalars.count > $1.content.unicodeScalars.count }
    let (prefix, suffix) = try postProcessor(json, tokens: tokens)
    var maxLength: Int?
    if let truncation = try json.optionalObject("truncation") {
      maxLength = try truncation.int("max_length")
      guard maxLength! > prefix.count + suffix.count else {
        throw truncation.fail(
          "max_length", expected: "more than the \(prefix.count + suffix.count) tokens the post-processor adds",
          got: maxLength!)
      }
    }
    return Tokenizer(
      subwords: subwords, normalizer: try normalizer(json), words: try words(json), decoding: try decoding(json),
      added: added, prefix: prefix, suffix: suffix, maxLength: maxLength, tokens: tokens)
  }

  private static func vocabulary(_ model: JSONFields) throws -> [String: Int] {
    let entries = try model.object("vocab")
    var vocabulary: [String: Int] = [:]
    vocabulary.reserveCapacity(entries.object.count)
    for (token, value) in entries.object {
      guard let id = JSONText.integer(value), id >= 0 else {
        throw entries.fail(token, expected: "a token id (an integer ≥ 0)", got: value)
      }
      vocabulary[token] = id
    }
    return vocabulary
  }

  private static func subwords(_ model: JSONFields) throws -> Subwords {
    // Older files leave the type out; a model with merges is BPE, one with a
    // continuing_subword_prefix and no merges is WordPiece.
    let type = try model.optionalString("type") ?? (model.has("merges") ? "BPE" : "WordPiece")
    let vocabulary = try vocabulary(model)
    func id(of key: String) throws -> Int? {
      guard let token = try model.optionalString(key) else { return nil }
      guard let id = vocabulary[token] else {
        throw model.fail(key, expected: "a token of the vocabulary", got: token)
      }
      return id
    }
    switch type {
    case "WordPiece":
      guard let unknown = try id(of: "unk_token") else {
        throw model.fail("unk_token", expected: "a token of the vocabulary", got: nil)
      }
      return .wordPiece(
        WordPiece(
          vocabulary: vocabulary, unknown: unknown,
          prefix: try model.optionalString("continuing_subword_prefix") ?? "##",
          maxCharacters: try model.optionalInt("max_input_chars_per_word") ?? 100))
    case "BPE":
      if let prefix = try model.optionalString("continuing_subword_prefix"), !prefix.isEmpty {
        throw LatheIOError.unsupported(
          file: model.file, field: "field \"model.continuing_subword_prefix\"", value: prefix,
          supported: ["null", "\"\""])
      }
      if let suffix = try model.optionalString("end_of_word_suffix"), !suffix.isEmpty {
        throw LatheIOError.unsupported(
          file: model.file, field: "field \"model.end_of_word_suffix\"", value: suffix, supported: ["null", "\"\""])
      }
      return .bpe(
        BytePairEncoding(
          vocabulary: vocabulary, ranks: try merges(model), unknown: try id(of: "unk_token"),
          ignoreMerges: try model.bool("ignore_merges", default: false)))
    default:
      throw LatheIOError.unsupported(
        file: model.file, field: "field \"model.type\"", value: type, supported: ["WordPiece", "BPE"])
    }
  }

  /// Merges as "a b" lines (older files) or ["a", "b"] pairs (newer ones), ranked by position.
  private static func merges(_ model: JSONFields) throws -> [BytePairEncoding.Pair: Int] {
    let list = try model.array("merges")
    var ranks: [BytePairEncoding.Pair: Int] = [:]
    ranks.reserveCapacity(list.count)
    for (rank, entry) in list.enumerated() {
      let parts: [String]
      if let line = entry as? String {
        parts = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
      } else {
        parts = (entry as? [Any])?.compactMap { $0 as? String } ?? []
      }
      guard parts.count == 2, (entry as? [Any]).map({ $0.count == 2 }) ?? true, !parts[0].isEmpty,
        !parts[1].isEmpty
      else {
        throw LatheIOError.invalid(
          file: model.file, field: "field \"model.merges[\(rank)]\"",
          expected: "two symbols, as \"a b\" or [\"a\", \"b\"]", got: JSONText.describe(entry))
      }
      let pair = BytePairEncoding.Pair(left: parts[0], right: parts[1])
      if ranks[pair] == nil { ranks[pair] = rank }
    }
    return ranks
  }

  private static func normalizer(_ json: JSONFields) throws -> BertNormalizer? {
    guard let n = try json.optionalObject("normalizer") else { return nil }
    let type = try n.string("type")
    guard type == "BertNormalizer" else {
      throw LatheIOError.unsupported(
        file: json.file, field: "field \"normalizer.type\"", value: type, supported: ["BertNormalizer", "null"])
    }
    return BertNormalizer(
      cleanText: try n.bool("clean_text", default: true),
      handleChineseChars: try n.bool("handle_chinese_chars", default: true),
      stripAccents: n.has("strip_accents") ? try n.bool("strip_accents", default: false) : nil,
      lowercase: try n.bool("lowercase", default: true))
  }

  private static func words(_ json: JSONFields) throws -> Words {
    guard let p = try json.optionalObject("pre_tokenizer") else { return .whole }
    let type = try p.string("type")
    switch type {
    case "BertPreTokenizer": return .bert
    case "ByteLevel":
      guard try p.bool("use_regex", default: true) else {
        throw LatheIOError.unsupported(
          file: json.file, field: "field \"pre_tokenizer.use_regex\"", value: "false", supported: ["true"])
      }
      return .byteLevel(addPrefixSpace: try p.bool("add_prefix_space", default: true))
    default:
      throw LatheIOError.unsupported(
        file: json.file, field: "field \"pre_tokenizer.type\"", value: type,
        supported: ["BertPreTokenizer", "ByteLevel", "null"])
    }
  }

  private static func decoding(_ json: JSONFields) throws -> Decoding {
    guard let d = try json.optionalObject("decoder") else { return .plain }
    let type = try d.string("type")
    switch type {
    case "WordPiece":
      return .wordPiece(prefix: try d.optionalString("prefix") ?? "##", cleanup: try d.bool("cleanup", default: true))
    case "ByteLevel": return .byteLevel
    default:
      throw LatheIOError.unsupported(
        file: json.file, field: "field \"decoder.type\"", value: type, supported: ["WordPiece", "ByteLevel", "null"])
    }
  }

  /// The ids a single sequence is wrapped in: TemplateProcessing's `single` template (special
  /// tokens around sequence A) or BertProcessing's [CLS] … [SEP]; ByteLevel adds none.
  private static func postProcessor(_ json: JSONFields, tokens: [Int: String]) throws -> ([Int], [Int]) {
    guard let p = try json.optionalObject("post_processor") else { return ([], []) }
    let type = try p.string("type")
    switch type {
    case "ByteLevel": return ([], [])
    case "BertProcessing":
      return ([try pairID(p, "cls")], [try pairID(p, "sep")])
    case "TemplateProcessing":
      let specials = try p.object("special_tokens")
      let single = try p.array("single")
      var (prefix, suffix, seenSequence) = ([Int](), [Int](), false)
      for index in single.indices {
        let item = try p.object(in: "single", at: index, of: single)
        if item.has("Sequence") {
          guard !seenSequence else {
            throw p.fail("single", expected: "one Sequence (a single text)", got: single)
          }
          seenSequence = true
        } else if item.has("SpecialToken") {
          let name = try item.object("SpecialToken").string("id")
          let special = try specials.object(name)
          let ids = try special.array("ids").map { value -> Int in
            guard let id = JSONText.integer(value), id >= 0 else {
              throw special.fail("ids", expected: "token ids", got: value)
            }
            return id
          }
          if seenSequence { suffix += ids } else { prefix += ids }
        } else {
          throw item.fail("Sequence", expected: "a Sequence or a SpecialToken", got: item.object)
        }
      }
      guard seenSequence else { throw p.fail("single", expected: "a template with a Sequence", got: single) }
      return (prefix, suffix)
    default:
      throw LatheIOError.unsupported(
        file: json.file, field: "field \"post_processor.type\"", value: type,
        supported: ["TemplateProcessing", "BertProcessing", "ByteLevel", "null"])
    }
  }

  /// BertProcessing's ["[CLS]", 101].
  private static func pairID(_ p: JSONFields, _ key: String) throws -> Int {
    let value = p.object[key]
    guard let pair = value as? [Any], pair.count == 2, pair[0] is String, let id = JSONText.integer(pair[1]), id >= 0
    else {
      throw p.fail(key, expected: "a [token, id] pair", got: value)
    }
    return id
  }
}
