/// Rebuilds a layer from its spec with parameters of the right shapes (zero-filled); a model
/// file's tensors are then loaded into them.
public enum LayerFactory {
  public static func make(_ spec: LayerSpec) throws(ModelError) -> Layer {
    switch spec.op {
    case "linear":
      let (inputs, outputs) = (try spec.int("in"), try spec.int("out"))
      try positive(spec, "in", inputs)
      try positive(spec, "out", outputs)
      try allocatable(spec, [outputs, inputs])
      return Linear(
        weight: Parameter(.zeros([outputs, inputs])),
        bias: try spec.bool("bias", default: true) ? Parameter(.zeros([outputs])) : nil)
    case "conv2d":
      let (inputs, outputs, groups) = (try spec.int("in"), try spec.int("out"), try spec.int("groups"))
      let kernel = try spec.ints("kernel")
      try positive(spec, "in", inputs)
      try positive(spec, "out", outputs)
      try positive(spec, "groups", groups)
      guard inputs % groups == 0, outputs % groups == 0 else {
        throw .badAttribute(op: spec.op, key: "groups", expected: "a divisor of in and out")
      }
      guard kernel.count == 2, kernel.allSatisfy({ $0 > 0 }) else {
        throw .badAttribute(op: spec.op, key: "kernel", expected: "two positive integers")
      }
      try allocatable(spec, [outputs, inputs / groups] + kernel)
      return Conv2d(
        weight: Parameter(.zeros([outputs, inputs / groups, kernel[0], kernel[1]])),
        bias: try spec.bool("bias", default: true) ? Parameter(.zeros([outputs])) : nil,
        stride: try pair(spec, "stride", [1, 1]), padding: try padding(spec),
        dilation: try pair(spec, "dilation", [1, 1]),
        groups: groups)
    case "batchnorm":
      let channels = try spec.int("channels")
      try positive(spec, "channels", channels)
      try allocatable(spec, [channels])
      return BatchNorm(
        channels: channels, epsilon: try spec.float("epsilon", default: 1e-5),
        momentum: try spec.float("momentum", default: 0.1))
    case "maxpool2d", "avgpool2d":
      let kernel = try spec.ints("kernel")
      guard kernel.count == 2, kernel.allSatisfy({ $0 > 0 }) else {
        throw .badAttribute(op: spec.op, key: "kernel", expected: "two positive integers")
      }
      let geometry = WindowGeometry(
        kernel: kernel, stride: try pair(spec, "stride", kernel), padding: try padding(spec),
        dilation: try pair(spec, "dilation", [1, 1]), ceilMode: try spec.bool("ceil_mode", default: false))
      return Pool2d(
        spec.op == "maxpool2d" ? .max : .average, geometry: geometry,
        countIncludePad: try spec.bool("count_include_pad", default: false))
    case "relu": return Function(.relu)
    case "gelu": return Function(.gelu)
    case "gelu_tanh": return Function(.geluTanh)
    case "mean_pooling": return MeanPooling()
    case "l2_normalize": return L2Normalization()
    case "silu": return Function(.silu)
    case "token_table", "position_embedding":
      let rows = try spec.int(spec.op == "token_table" ? "vocabulary" : "positions")
      let width = try spec.int("width")
      try positive(spec, spec.op == "token_table" ? "vocabulary" : "positions", rows)
      try positive(spec, "width", width)
      try allocatable(spec, [rows, width])
      let weight = Parameter(.zeros([rows, width]))
      return spec.op == "token_table" ? TokenTable(weight: weight) : PositionEmbedding(weight: weight)
    case "token_embedding": return TokenEmbedding()
    case "tied_head": return TiedHead()
    case "layer_norm", "rms_norm":
      let width = try spec.int("width")
      try positive(spec, "width", width)
      try allocatable(spec, [width])
      return Normalization(
        spec.op == "layer_norm" ? .layer : .rms, width: width, epsilon: try spec.float("epsilon", default: 1e-5))
    case "attention":
      let (heads, kvHeads) = (try spec.int("heads"), try spec.int("kv_heads"))
      try positive(spec, "heads", heads)
      try positive(spec, "kv_heads", kvHeads)
      guard heads % kvHeads == 0 else {
        throw .badAttribute(op: spec.op, key: "kv_heads", expected: "a divisor of heads (\(heads))")
      }
      return Attention(
        AttentionGeometry(heads: heads, kvHeads: kvHeads, causal: try spec.bool("causal", default: false)))
    case "sigmoid": return Function(.sigmoid)
    case "tanh": return Function(.tanh)
    case "softmax": return Function(.softmax)
    case "log_softmax": return Function(.logSoftmax)
    case "leaky_relu": return Function(.leakyRelu(slope: try spec.float("slope", default: 0.01)))
    case "flatten":
      let axis = spec.attributes["start_axis"] == nil ? 1 : try spec.int("start_axis")
      return Function(.flatten(startAxis: axis))
    case "global_avgpool": return Function(.globalAvgPool)
    case "dropout":
      let rate = try spec.float("rate", default: 0.5)
      guard rate >= 0, rate < 1 else { throw .badAttribute(op: spec.op, key: "rate", expected: "a number in [0, 1)") }
      return Function(.dropout(rate: rate))
    case "add": return Function(.add)
    case "concat": return Function(.concat(axis: try spec.int("axis")))
    default: throw .unknownOp(spec.op)
    }
  }

  /// A weight of `shape` fits in memory: the spec is read before its tensors, and a damaged
  /// "out" of 10^9 must be an error, not an allocation of a terabyte.
  private static func allocatable(_ spec: LayerSpec, _ shape: [Int]) throws(ModelError) {
    do {
      try ShapeRules.elements(shape)
    } catch {
      throw .badAttribute(
        op: spec.op, key: "in/out", expected: "a weight of at most \(ShapeRules.maximumElements) values, not \(shape)")
    }
  }

  private static func positive(_ spec: LayerSpec, _ key: String, _ value: Int) throws(ModelError) {
    guard value > 0 else { throw .badAttribute(op: spec.op, key: key, expected: "a positive integer") }
  }

  private static func pair(_ spec: LayerSpec, _ key: String, _ fallback: [Int]) throws(ModelError) -> [Int] {
    let v = try spec.ints(key, default: fallback)
    guard v.count == 2, v.allSatisfy({ $0 > 0 }) else {
      throw .badAttribute(op: spec.op, key: key, expected: "two positive integers")
    }
    return v
  }

  private static func padding(_ spec: LayerSpec) throws(ModelError) -> [Int] {
    let v = try spec.ints("padding", default: [0, 0, 0, 0])
    guard v.count == 2 || v.count == 4, v.allSatisfy({ $0 >= 0 }) else {
      throw .badAttribute(op: spec.op, key: "padding", expected: "2 or 4 non-negative integers")
    }
    return v.count == 2 ? v + v : v
  }
}
