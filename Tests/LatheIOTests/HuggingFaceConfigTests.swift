import Foundation
import LatheTensor
import XCTest

@testable import LatheIO

/// config.json: both families' spellings of the sizes, and every way the file can be wrong
/// named by file and field.
final class HuggingFaceConfigTests: XCTestCase {
  func read(_ text: String) throws -> HuggingFaceConfig {
    let url = try temporaryDirectory().appendingPathComponent("config.json")
    try text.write(to: url, atomically: true, encoding: .utf8)
    return try HuggingFaceConfig.read(from: url)
  }

  static let bert = """
    {"model_type": "bert", "vocab_size": 30522, "max_position_embeddings": 512, "hidden_size": 384,
     "num_hidden_layers": 6, "num_attention_heads": 12, "intermediate_size": 1536, "hidden_act": "gelu",
     "layer_norm_eps": 1e-12, "type_vocab_size": 2, "position_embedding_type": "absolute"}
    """

  func testBothFamilies() throws {
    let bert = try read(Self.bert)
    XCTAssertEqual(bert.family, .bert)
    XCTAssertEqual(
      bert.transformer,
      TransformerConfig(
        vocabulary: 30522, positions: 512, width: 384, layers: 6, heads: 12, mlpWidth: 1536, activation: .gelu,
        tiedHead: false, epsilon: 1e-12))
    // GPT-2's defaults: n_inner null is 4 · n_embd; n_ctx stands in for n_positions.
    let gpt2 = try read(
      #"{"model_type": "gpt2", "vocab_size": 50257, "n_ctx": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12, "n_inner": null, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5}"#
    )
    XCTAssertEqual(gpt2.family, .gpt2)
    XCTAssertEqual(
      gpt2.transformer,
      TransformerConfig(
        vocabulary: 50257, positions: 1024, width: 768, layers: 12, heads: 12, activation: .geluTanh, tiedHead: true,
        epsilon: 1e-5))
  }

  func testMalformedConfigsNameTheField() throws {
    func replacing(_ from: String, _ to: String) -> String { Self.bert.replacingOccurrences(of: from, with: to) }
    let cases: [(String, [String])] = [
      ("{", ["config.json", "JSON"]),
      ("[]", ["config.json", "a JSON object"]),
      (#"{"vocab_size": 3}"#, ["config.json", "\"model_type\"", "no such field"]),
      (#"{"model_type": "llama"}"#, ["config.json", "\"model_type\"", "llama", "bert, gpt2"]),
      (replacing("\"hidden_size\": 384,", ""), ["config.json", "\"hidden_size\"", "no such field"]),
      (replacing("\"hidden_size\": 384", "\"hidden_size\": \"384\""), ["\"hidden_size\"", "a positive integer"]),
      (replacing("\"hidden_size\": 384", "\"hidden_size\": 384.5"), ["\"hidden_size\""]),
      (replacing("\"num_hidden_layers\": 6", "\"num_hidden_layers\": 0"), ["\"num_hidden_layers\""]),
      (replacing("\"num_attention_heads\": 12", "\"num_attention_heads\": 7"), ["\"num_attention_heads\"", "384"]),
      (replacing("\"gelu\"", "\"relu\""), ["\"hidden_act\"", "relu", "gelu_new"]),
      (replacing("\"layer_norm_eps\": 1e-12", "\"layer_norm_eps\": \"small\""), ["\"layer_norm_eps\"", "a number"]),
      (replacing("\"absolute\"", "\"relative_key\""), ["\"position_embedding_type\"", "relative_key"]),
      (#"{"model_type": "gpt2", "vocab_size": 5, "n_embd": 8, "n_layer": 1, "n_head": 2}"#, ["\"n_positions\""]),
    ]
    for (text, mentions) in cases { assertThrows(try read(text), mentions: mentions) }
  }
}
