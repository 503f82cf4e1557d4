import Foundation
import LatheTensor

/// What Lathe reads from a Hugging Face checkpoint's config.json: the family and the sizes, as
/// a `TransformerConfig`. BERT and GPT-2 spell the same sizes differently (hidden_size and
/// n_embd); each family's names are read here, once.
public struct HuggingFaceConfig: Sendable, Equatable {
  public enum Family: String, Sendable, CaseIterable {
    /// An encoder: BERT and its distillations (MiniLM, all-MiniLM-L6-v2).
    case bert
    /// A decoder: GPT-2 and its distillations (distilgpt2).
    case gpt2
  }

  public var family: Family
  public var transformer: TransformerConfig
  /// BERT's token-type rows (2); only type 0 is used.
  public var tokenTypes: Int

  /// The largest config.json read; real ones are a few kilobytes.
  static let sizeLimit = 1 << 20

  public static func read(from url: URL) throws -> HuggingFaceConfig {
    try decode(JSONFields.read(url, limit: sizeLimit))
  }

  static func decode(_ json: JSONFields) throws -> HuggingFaceConfig {
    let type = try json.string("model_type")
    guard let family = Family(rawValue: type) else {
      throw LatheIOError.unsupported(
        file: json.file, field: "field \"model_type\"", value: type, supported: Family.allCases.map(\.rawValue))
    }
    let config: HuggingFaceConfig
    switch family {
    case .bert: config = try bert(json)
    case .gpt2: config = try gpt2(json)
    }
    let c = config.transformer
    guard c.width % c.heads == 0 else {
      throw json.fail(
        family == .bert ? "num_attention_heads" : "n_head", expected: "a divisor of the width \(c.width)",
        got: c.heads)
    }
    return config
  }

  private static func bert(_ json: JSONFields) throws -> HuggingFaceConfig {
    if let kind = try json.optionalString("position_embedding_type"), kind != "absolute" {
      throw LatheIOError.unsupported(
        file: json.file, field: "field \"position_embedding_type\"", value: kind, supported: ["absolute"])
    }
    let transformer = TransformerConfig(
      vocabulary: try json.int("vocab_size"), positions: try json.int("max_position_embeddings"),
      width: try json.int("hidden_size"), layers: try json.int("num_hidden_layers"),
      heads: try json.int("num_attention_heads"), mlpWidth: try json.int("intermediate_size"),
      activation: try activation(json, "hidden_act", default: "gelu"), tiedHead: false,
      epsilon: try json.float("layer_norm_eps", default: 1e-12))
    return HuggingFaceConfig(
      family: .bert, transformer: transformer, tokenTypes: try json.optionalInt("type_vocab_size") ?? 2)
  }

  private static func gpt2(_ json: JSONFields) throws -> HuggingFaceConfig {
    let width = try json.int("n_embd")
    let transformer = TransformerConfig(
      vocabulary: try json.int("vocab_size"), positions: try json.int(anyOf: ["n_positions", "n_ctx"]), width: width,
      layers: try json.int("n_layer"), heads: try json.int("n_head"),
      mlpWidth: try json.optionalInt("n_inner") ?? 4 * width,
      activation: try activation(json, "activation_function", default: "gelu_new"), tiedHead: true,
      epsilon: try json.float("layer_norm_epsilon", default: 1e-5))
    return HuggingFaceConfig(family: .gpt2, transformer: transformer, tokenTypes: 0)
  }

  /// transformers' ACT2FN names for the two GELUs Lathe has.
  private static func activation(
    _ json: JSONFields, _ key: String, default fallback: String
  ) throws -> TransformerConfig.Activation {
    let name = try json.optionalString(key) ?? fallback
    switch name {
    case "gelu": return .gelu
    case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": return .geluTanh
    default:
      throw LatheIOError.unsupported(
        file: json.file, field: "field \"\(key)\"", value: name,
        supported: ["gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast"])
    }
  }
}
