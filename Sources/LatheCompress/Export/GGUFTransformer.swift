import LatheIO
import LatheTensor

/// A Lathe GPT's GGUF layout: llama.cpp's tensor vocabulary (`token_embd`, `blk.N.attn_q`,
/// `ffn_up`, `output_norm`) and its hyperparameter keys under the architecture's name. The
/// architecture is `lathe-gpt`, not `gpt2`: llama.cpp's GPT-2 loader wants q, k and v fused in
/// one `attn_qkv` tensor, and no llama.cpp build knows `lathe-gpt`, so the file is for tools
/// that read GGUF (the `gguf` package, `lathe inspect`), not yet for llama.cpp itself.
public enum GGUFTransformer {
  public static let architecture = "lathe-gpt"

  /// The options for `model` when it is a transformer built by `Transformer`; nil otherwise.
  public static func options(for model: Model, type: GGMLType, name: String) -> GGUFExportOptions? {
    guard let c = model.transformerConfig else { return nil }
    let a = architecture
    let metadata: [(key: String, value: GGUFValue)] = [
      ("\(a).context_length", .uint32(UInt32(c.positions))), ("\(a).embedding_length", .uint32(UInt32(c.width))),
      ("\(a).block_count", .uint32(UInt32(c.layers))), ("\(a).feed_forward_length", .uint32(UInt32(c.mlpWidth))),
      ("\(a).attention.head_count", .uint32(UInt32(c.heads))),
      ("\(a).attention.head_count_kv", .uint32(UInt32(c.kvHeads))),
      ("\(a).attention.layer_norm_epsilon", .float32(c.epsilon)),
      ("\(a).attention.causal", .bool(c.causal)), ("\(a).vocab_size", .uint32(UInt32(c.vocabulary))),
      // The bundled GPT reads UTF-8 bytes: id = byte, no tokenizer file.
      ("tokenizer.ggml.model", .string(model.metadata[Transformer.tokenizerKey] ?? "bytes")),
    ]
    return GGUFExportOptions(
      type: type, name: name, architecture: a, names: .table(names(layers: c.layers)), metadata: metadata)
  }

  /// Lathe's parameter names (`h0.q.weight`) to llama.cpp's (`blk.0.attn_q.weight`).
  static func names(layers: Int) -> [String: String] {
    var table = [
      "wte.weight": "token_embd.weight", "wpe.weight": "position_embd.weight", "ln_f.weight": "output_norm.weight",
      "ln_f.bias": "output_norm.bias", "lm_head.weight": "output.weight",
    ]
    let parts = [
      ("ln1", "attn_norm"), ("q", "attn_q"), ("k", "attn_k"), ("v", "attn_v"), ("proj", "attn_output"),
      ("ln2", "ffn_norm"), ("fc1", "ffn_up"), ("fc2", "ffn_down"),
    ]
    for i in 0..<layers {
      for (lathe, ggml) in parts {
        for kind in ["weight", "bias"] { table["h\(i).\(lathe).\(kind)"] = "blk.\(i).\(ggml).\(kind)" }
      }
    }
    return table
  }
}
