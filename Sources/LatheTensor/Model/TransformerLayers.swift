// The layers a transformer adds to the engine. Projections stay ordinary `Linear` nodes (q, k,
// v, the output projection and the MLP), so every technique that works on a Linear — pruning,
// int8, weight-only, GPTQ — works on a transformer's matrices without knowing it is one; only
// what has no weight matrix of its own lives here.

/// A token table [vocabulary, width] as a node of its own, read by `TokenEmbedding` and by a
/// `TiedHead`: one tensor shared by the input embedding and the output head (GPT-2's tied
/// weights), whose gradient gets both uses, and which a model file stores once.
public final class TokenTable: Layer, ShapeChecking {
  public let weight: Parameter

  public init(weight: Parameter) { self.weight = weight }

  public convenience init(vocabulary: Int, width: Int, std: Float = 0.02, generator: inout SeededGenerator) {
    self.init(weight: Parameter(.normal([vocabulary, width], std: std, generator: &generator)))
  }

  public var vocabulary: Int { weight.shape[0] }
  public var width: Int { weight.shape[1] }
  public var spec: LayerSpec {
    LayerSpec(op: "token_table", attributes: ["vocabulary": .int(vocabulary), "width": .int(width)])
  }
  public var parameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }
  public var effectiveWeight: Tensor<Float>? { weight.value }
  public var channelFlow: ChannelFlow { .constant }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable { weight.variable() }

  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try ShapeRules.inputs(inputs, count: 0)
    return [vocabulary, width]
  }

  public func copy() -> Layer { TokenTable(weight: weight.copy()) }
}

/// The rows of a `TokenTable` for token ids: inputs [table, ids [batch, sequence]] give
/// [batch, sequence, width]. Ids arrive as floats (datasets hold floats); one that is not a
/// whole number inside the table is a run failure naming it, not a read past the table.
public final class TokenEmbedding: Layer, ShapeChecking {
  public init() {}

  public var spec: LayerSpec { LayerSpec(op: "token_embedding") }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let (table, ids) = (inputs[0], inputs[1].value)
    let vocabulary = table.shape[0]
    if let bad = ids.scalars.first(where: { !($0 >= 0 && $0 < Float(vocabulary) && $0.rounded() == $0) }) {
      RunFailure.record("token_embedding", "token id \(bad) is not a whole number in 0..<\(vocabulary)")
      return Variable(.zeros(ids.shape + [table.shape[1]]))
    }
    return .gatherRows(table, ids: ids)
  }

  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try ShapeRules.inputs(inputs, count: 2)
    guard inputs[0].count == 2 else { throw ShapeError("needs a table [vocabulary, width], gets \(inputs[0])") }
    return inputs[1] + [inputs[0][1]]
  }

  public func copy() -> Layer { TokenEmbedding() }
}

/// Learned absolute positions added to [batch, sequence, width] (GPT-2, BERT). With a
/// `KVCache` in the context, the sequence continues the cached tokens: position cache.length on.
public final class PositionEmbedding: Layer, ShapeChecking {
  public let weight: Parameter

  public init(weight: Parameter) { self.weight = weight }

  public convenience init(positions: Int, width: Int, std: Float = 0.01, generator: inout SeededGenerator) {
    self.init(weight: Parameter(.normal([positions, width], std: std, generator: &generator)))
  }

  public var positions: Int { weight.shape[0] }
  public var width: Int { weight.shape[1] }
  public var spec: LayerSpec {
    LayerSpec(op: "position_embedding", attributes: ["positions": .int(positions), "width": .int(width)])
  }
  public var parameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    let length = x.shape[1]
    let start = context.cache?.length ?? 0
    guard start + length <= positions else {
      RunFailure.record(
        "position_embedding", "positions \(start)..<\(start + length) run past the \(positions) the model has")
      return x
    }
    return x + weight.variable().sliced(axis: 0, start..<(start + length))
  }

  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let x = try ShapeRules.same(inputs)
    guard x.count == 3, x[2] == width else { throw ShapeError("needs [batch, sequence, \(width)], gets \(x)") }
    guard x[1] <= positions else { throw ShapeError("a sequence of \(x[1]) is longer than the \(positions) positions") }
    return x
  }

  public func copy() -> Layer { PositionEmbedding(weight: weight.copy()) }
}

/// LayerNorm (γ, β) or RMSNorm (γ only) over the last axis.
public final class Normalization: Layer, ShapeChecking {
  public enum Kind: String, Sendable { case layer, rms }
  public let kind: Kind
  public let gamma: Parameter
  public let beta: Parameter?
  public let epsilon: Float

  public init(_ kind: Kind, width: Int, epsilon: Float = 1e-5) {
    self.kind = kind
    gamma = Parameter(Tensor(repeating: 1, shape: [width]))
    beta = kind == .layer ? Parameter(.zeros([width])) : nil
    self.epsilon = epsilon
  }

  public var width: Int { gamma.shape[0] }
  public var spec: LayerSpec {
    LayerSpec(
      op: kind == .layer ? "layer_norm" : "rms_norm", attributes: ["width": .int(width), "epsilon": .float(epsilon)])
  }
  public var parameters: [(name: String, parameter: Parameter)] {
    [("weight", gamma)] + (beta.map { [("bias", $0)] } ?? [])
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    switch kind {
    case .layer: return inputs[0].layerNorm(gamma: gamma.variable(), beta: beta?.variable(), epsilon: epsilon)
    case .rms: return inputs[0].rmsNorm(gamma: gamma.variable(), epsilon: epsilon)
    }
  }

  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let x = try ShapeRules.same(inputs)
    guard x.last == width else { throw ShapeError("normalises \(width) features on the last axis, gets \(x)") }
    return x
  }

  public func copy() -> Layer {
    let other = Normalization(kind, width: width, epsilon: epsilon)
    for (mine, theirs) in zip(parameters, other.parameters) { theirs.parameter.value = mine.parameter.value }
    return other
  }
}

/// Scaled dot-product attention over projections made by Linear nodes: inputs [q, k, v] each
/// [batch, sequence, heads · headSize] (k and v with `kvHeads` heads), and optionally a key
/// mask [batch, sequence] of 1 (attend) and 0 (padding). With a `KVCache` in the context the
/// new keys and values are appended to the cached ones first (generation one token at a time).
public final class Attention: Layer, ShapeChecking {
  public let geometry: AttentionGeometry

  public init(_ geometry: AttentionGeometry) { self.geometry = geometry }

  public var spec: LayerSpec {
    LayerSpec(
      op: "attention",
      attributes: [
        "heads": .int(geometry.heads), "kv_heads": .int(geometry.kvHeads), "causal": .bool(geometry.causal),
      ])
  }
  public var kernelName: String { "sdpa-sgemm" }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    var (k, v) = (inputs[1], inputs[2])
    if let cache = context.cache {
      (k, v) = cache.appending(key: k, value: v, for: self)
    }
    return .attention(
      query: inputs[0], key: k, value: v, geometry: geometry, keyMask: inputs.count > 3 ? inputs[3].value : nil)
  }

  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    guard inputs.count == 3 || inputs.count == 4 else { throw ShapeError("reads q, k, v and an optional mask") }
    let (q, k, v) = (inputs[0], inputs[1], inputs[2])
    guard q.count == 3, k.count == 3, k == v, q[0] == k[0], q[2] % geometry.heads == 0 else {
      throw ShapeError("needs q, k, v as [batch, sequence, width] with k and v alike, gets \(q), \(k), \(v)")
    }
    guard k[2] * geometry.heads == q[2] * geometry.kvHeads else {
      throw ShapeError(
        "keys of width \(k[2]) do not make \(geometry.kvHeads) heads of queries \(q[2])/\(geometry.heads)")
    }
    if inputs.count == 4, inputs[3] != [k[0], k[1]] {
      throw ShapeError("a key mask should be [batch, keys] = \([k[0], k[1]]), gets \(inputs[3])")
    }
    return q
  }

  public func copy() -> Layer { Attention(geometry) }
}

/// The output head of a model whose head is its token table: logits = x · tableᵀ over the last
/// axis; inputs [hidden [..., width], table [vocabulary, width]].
public final class TiedHead: Layer, ShapeChecking {
  public init() {}

  public var spec: LayerSpec { LayerSpec(op: "tied_head") }
  public var kernelName: String { "sgemm" }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    inputs[0].linearOverLastAxis(weight: inputs[1], bias: nil)
  }

  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try ShapeRules.inputs(inputs, count: 2)
    guard inputs[1].count == 2 else { throw ShapeError("needs a table [vocabulary, width], gets \(inputs[1])") }
    return try ShapeRules.linear([inputs[0]], in: inputs[1][1], out: inputs[1][0])
  }

  public func copy() -> Layer { TiedHead() }
}
