import Foundation

/// The sizes and choices of a transformer, decoder (GPT) or encoder (BERT). Kept in the model's
/// metadata (`Transformer.configKey`) so exporters and the generator can read them back.
public struct TransformerConfig: Codable, Sendable, Equatable {
  public enum Activation: String, Codable, Sendable {
    case gelu, silu
    /// GELU's tanh approximation, GPT-2's "gelu_new".
    case geluTanh = "gelu_tanh"

    var function: Function.Kind {
      switch self {
      case .gelu: return .gelu
      case .silu: return .silu
      case .geluTanh: return .geluTanh
      }
    }
  }

  public var vocabulary: Int
  /// The longest sequence the position table covers.
  public var positions: Int
  public var width: Int
  public var layers: Int
  public var heads: Int
  /// Key/value heads: fewer than `heads` is grouped-query attention.
  public var kvHeads: Int
  /// The MLP's hidden width (4 · width in GPT-2 and BERT).
  public var mlpWidth: Int
  public var norm: Normalization.Kind
  public var activation: Activation
  /// Whether the output head is the token table (GPT-2) or a Linear of its own.
  public var tiedHead: Bool
  public var epsilon: Float
  /// A decoder (each position sees only those before it, and predicts the next token) or an
  /// encoder (BERT: every position sees every other).
  public var causal: Bool

  public init(
    vocabulary: Int, positions: Int, width: Int, layers: Int, heads: Int, kvHeads: Int? = nil, mlpWidth: Int? = nil,
    norm: Normalization.Kind = .layer, activation: Activation = .gelu, tiedHead: Bool = true, epsilon: Float = 1e-5,
    causal: Bool = true
  ) {
    self.causal = causal
    (self.vocabulary, self.positions, self.width, self.layers, self.heads) = (
      vocabulary, positions, width, layers, heads
    )
    self.kvHeads = kvHeads ?? heads
    self.mlpWidth = mlpWidth ?? 4 * width
    (self.norm, self.activation, self.tiedHead, self.epsilon) = (norm, activation, tiedHead, epsilon)
  }

  /// Lathe's bundled language model: bytes in, bytes out (no tokenizer file to lose), four
  /// pre-norm blocks of width 128: 0.8M parameters, small enough to train on two cores.
  public static func charGPT(vocabulary: Int = 256) -> TransformerConfig {
    TransformerConfig(vocabulary: vocabulary, positions: 128, width: 128, layers: 4, heads: 4)
  }

  enum CodingKeys: String, CodingKey {
    case vocabulary, positions, width, layers, heads, norm, activation, epsilon, causal
    case kvHeads = "kv_heads"
    case mlpWidth = "mlp_width"
    case tiedHead = "tied_head"
  }

  /// `causal` may be missing: files written before encoders existed hold decoders only.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    vocabulary = try c.decode(Int.self, forKey: .vocabulary)
    positions = try c.decode(Int.self, forKey: .positions)
    width = try c.decode(Int.self, forKey: .width)
    layers = try c.decode(Int.self, forKey: .layers)
    heads = try c.decode(Int.self, forKey: .heads)
    kvHeads = try c.decode(Int.self, forKey: .kvHeads)
    mlpWidth = try c.decode(Int.self, forKey: .mlpWidth)
    norm = try c.decode(Normalization.Kind.self, forKey: .norm)
    activation = try c.decode(Activation.self, forKey: .activation)
    tiedHead = try c.decode(Bool.self, forKey: .tiedHead)
    epsilon = try c.decode(Float.self, forKey: .epsilon)
    causal = try c.decodeIfPresent(Bool.self, forKey: .causal) ?? true
  }
}

extension Normalization.Kind: Codable {}

/// Builds transformer graphs from `Linear`, `Attention`, `Normalization` and embedding nodes.
/// Node names follow GPT-2's (`h0.q`, `h0.fc1`, `ln_f`), so patterns such as `"h*.fc1"` select
/// a kind of matrix in every block.
public enum Transformer {
  /// Where a model keeps its `TransformerConfig` (JSON) in its metadata.
  public static let configKey = "transformer.config"
  /// How text becomes token ids for the model: "bytes" (UTF-8 bytes are the ids) or
  /// "tokenizer.json" (a Hugging Face tokenizer beside the model).
  public static let tokenizerKey = "transformer.tokenizer"

  /// A decoder-only language model, GPT-2's pre-norm layout: token and position embeddings,
  /// `layers` blocks of x + attn(norm(x)) then x + mlp(norm(x)), a final norm and a head.
  /// Weights are N(0, 0.02), the residual projections scaled by 1/√(2·layers) as GPT-2 does.
  public static func decoder(_ c: TransformerConfig, seed: UInt64 = 0) -> Model {
    var g = SeededGenerator(seed: seed)
    var nodes: [Node] = [
      Node("wte", TokenTable(vocabulary: c.vocabulary, width: c.width, generator: &g), inputs: []),
      Node("embed", TokenEmbedding(), inputs: ["wte", "input"]),
      Node("wpe", PositionEmbedding(positions: c.positions, width: c.width, generator: &g), inputs: ["embed"]),
    ]
    var x = "wpe"
    let residualStd = 0.02 / Float(2 * c.layers).squareRoot()
    let headSize = c.width / c.heads
    for i in 0..<c.layers {
      let p = "h\(i)."
      nodes += [
        Node(p + "ln1", Normalization(c.norm, width: c.width, epsilon: c.epsilon), inputs: [x]),
        Node(p + "q", linear(c.width, c.width, std: 0.02, &g), inputs: [p + "ln1"]),
        Node(p + "k", linear(c.width, c.kvHeads * headSize, std: 0.02, &g), inputs: [p + "ln1"]),
        Node(p + "v", linear(c.width, c.kvHeads * headSize, std: 0.02, &g), inputs: [p + "ln1"]),
        Node(
          p + "attn", Attention(AttentionGeometry(heads: c.heads, kvHeads: c.kvHeads, causal: true)),
          inputs: [p + "q", p + "k", p + "v"]),
        Node(p + "proj", linear(c.width, c.width, std: residualStd, &g), inputs: [p + "attn"]),
        Node(p + "res1", Function(.add), inputs: [x, p + "proj"]),
        Node(p + "ln2", Normalization(c.norm, width: c.width, epsilon: c.epsilon), inputs: [p + "res1"]),
        Node(p + "fc1", linear(c.width, c.mlpWidth, std: 0.02, &g), inputs: [p + "ln2"]),
        Node(p + "act", Function(c.activation.function), inputs: [p + "fc1"]),
        Node(p + "fc2", linear(c.mlpWidth, c.width, std: residualStd, &g), inputs: [p + "act"]),
        Node(p + "res2", Function(.add), inputs: [p + "res1", p + "fc2"]),
      ]
      x = p + "res2"
    }
    nodes.append(Node("ln_f", Normalization(c.norm, width: c.width, epsilon: c.epsilon), inputs: [x]))
    if c.tiedHead {
      nodes.append(Node("lm_head", TiedHead(), inputs: ["ln_f", "wte"]))
    } else {
      nodes.append(Node("lm_head", linear(c.width, c.vocabulary, std: 0.02, &g, bias: false), inputs: ["ln_f"]))
    }
    return model(c, nodes: nodes, architecture: "gpt")
  }

  /// The name of an encoder's second input, the key mask [batch, sequence] of 1 (token) and 0
  /// (padding): Hugging Face's, so a dataset's `attention_mask` array feeds it.
  public static let maskInput = "attention_mask"

  /// A BERT encoder with sentence-transformers' embedding head: token and position embeddings
  /// and a LayerNorm (`ln_e`), then `layers` post-norm blocks x = norm(x + attn(x)),
  /// x = norm(x + mlp(x)) whose attention sees every unmasked token (no causal mask), then
  /// `pool` (the mean over unmasked tokens) and `normalize` (unit length): [batch, width]
  /// sentence embeddings from token ids and `attention_mask`. Block names are the decoder's
  /// (`h0.q`, `h0.fc1`), with `h0.ln1` after the attention and `h0.ln2` after the MLP.
  ///
  /// BERT also adds a token-type row; only type 0 is used for single sentences, so a checkpoint
  /// opener folds that row into the position table (`wpe`) instead of a node of its own.
  public static func encoder(_ config: TransformerConfig, seed: UInt64 = 0) -> Model {
    // Recorded as an encoder: not a language model, whatever the caller's config said.
    var c = config
    c.causal = false
    var g = SeededGenerator(seed: seed)
    var nodes: [Node] = [
      Node("wte", TokenTable(vocabulary: c.vocabulary, width: c.width, generator: &g), inputs: []),
      Node("embed", TokenEmbedding(), inputs: ["wte", "input"]),
      Node("wpe", PositionEmbedding(positions: c.positions, width: c.width, generator: &g), inputs: ["embed"]),
      Node("ln_e", Normalization(c.norm, width: c.width, epsilon: c.epsilon), inputs: ["wpe"]),
    ]
    var x = "ln_e"
    let headSize = c.width / c.heads
    for i in 0..<c.layers {
      let p = "h\(i)."
      nodes += [
        Node(p + "q", linear(c.width, c.width, std: 0.02, &g), inputs: [x]),
        Node(p + "k", linear(c.width, c.kvHeads * headSize, std: 0.02, &g), inputs: [x]),
        Node(p + "v", linear(c.width, c.kvHeads * headSize, std: 0.02, &g), inputs: [x]),
        Node(
          p + "attn", Attention(AttentionGeometry(heads: c.heads, kvHeads: c.kvHeads, causal: false)),
          inputs: [p + "q", p + "k", p + "v", maskInput]),
        Node(p + "proj", linear(c.width, c.width, std: 0.02, &g), inputs: [p + "attn"]),
        Node(p + "res1", Function(.add), inputs: [x, p + "proj"]),
        Node(p + "ln1", Normalization(c.norm, width: c.width, epsilon: c.epsilon), inputs: [p + "res1"]),
        Node(p + "fc1", linear(c.width, c.mlpWidth, std: 0.02, &g), inputs: [p + "ln1"]),
        Node(p + "act", Function(c.activation.function), inputs: [p + "fc1"]),
        Node(p + "fc2", linear(c.mlpWidth, c.width, std: 0.02, &g), inputs: [p + "act"]),
        Node(p + "res2", Function(.add), inputs: [p + "ln1", p + "fc2"]),
        Node(p + "ln2", Normalization(c.norm, width: c.width, epsilon: c.epsilon), inputs: [p + "res2"]),
      ]
      x = p + "ln2"
    }
    nodes += [
      Node("pool", MeanPooling(), inputs: [x, maskInput]),
      Node("normalize", L2Normalization(), inputs: ["pool"]),
    ]
    let mask = ModelInput(
      name: maskInput, shape: [-1, -1], exampleShape: [1, c.positions], elementType: "int64", batchAxis: 0)
    return model(c, nodes: nodes, architecture: "bert", extraInputs: [mask], classCount: c.width)
  }

  /// A model of these nodes with `c` in its metadata, reading token ids [batch, sequence] of
  /// any length up to `c.positions`.
  static func model(
    _ c: TransformerConfig, nodes: [Node], architecture: String, extraInputs: [ModelInput] = [],
    classCount: Int? = nil
  ) -> Model {
    // The graphs above are well-formed by construction.
    let model = try! Model(
      architecture: architecture, inputShape: [c.positions], classCount: classCount ?? c.vocabulary, nodes: nodes,
      metadata: extraInputs.isEmpty ? [:] : [Model.inputNameKey: "input_ids"], extraInputs: extraInputs)
    model.symbolicAxes = [0]
    model.transformerConfig = c
    return model
  }

  static func linear(_ inputs: Int, _ outputs: Int, std: Float, _ g: inout SeededGenerator, bias: Bool = true)
    -> Linear
  {
    Linear(
      weight: Parameter(.normal([outputs, inputs], std: std, generator: &g)),
      bias: bias ? Parameter(.zeros([outputs])) : nil)
  }
}

extension Model {
  /// The transformer sizes this model was built or opened with; nil for other models.
  public var transformerConfig: TransformerConfig? {
    get {
      metadata[Transformer.configKey].flatMap { try? JSONDecoder().decode(TransformerConfig.self, from: Data($0.utf8)) }
    }
    set {
      let encoder = JSONEncoder()
      encoder.outputFormatting = .sortedKeys
      metadata[Transformer.configKey] = newValue.flatMap { try? encoder.encode($0) }.map {
        String(decoding: $0, as: UTF8.self)
      }
    }
  }

  /// Whether this model predicts the next token at every position ([batch, sequence,
  /// vocabulary] logits from token ids), which is what perplexity and generation need.
  /// A model imported back from its ONNX export keeps the config in the file's metadata.
  public var isLanguageModel: Bool { transformerConfig?.causal ?? false }
}
