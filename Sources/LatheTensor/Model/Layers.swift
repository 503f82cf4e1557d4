/// Fully connected: y = x·Wᵀ + b, W stored [out, in], over the last axis of an input of rank 2
/// or more ([..., in] -> [..., out]: a transformer's projections as well as an MLP's layers).
public final class Linear: Layer {
  public let weight: Parameter
  public let bias: Parameter?

  public init(weight: Parameter, bias: Parameter?) {
    self.weight = weight
    self.bias = bias
  }

  /// He-uniform weights (suited to ReLU networks), zero bias.
  public convenience init(inputs: Int, outputs: Int, bias: Bool = true, generator: inout SeededGenerator) {
    let bound = (6 / Float(inputs)).squareRoot()
    self.init(
      weight: Parameter(.uniform([outputs, inputs], low: -bound, high: bound, generator: &generator)),
      bias: bias ? Parameter(.zeros([outputs])) : nil)
  }

  public var inputs: Int { weight.shape[1] }
  public var outputs: Int { weight.shape[0] }
  public var spec: LayerSpec {
    LayerSpec(op: "linear", attributes: ["in": .int(inputs), "out": .int(outputs), "bias": .bool(bias != nil)])
  }
  public var parameters: [(name: String, parameter: Parameter)] {
    [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
  }
  public var kernelName: String { "sgemm" }
  public var effectiveWeight: Tensor<Float>? { weight.value }

  /// The weight packed for inference at few rows (`PackedWeight`).
  private let packedWeight = PackedWeight()

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    inputs[0].overLastAxis { x in
      if !GradientRecording.isEnabled, PackedWeight.pays(rows: x.shape[0]),
        let packed = packedWeight.packed(weight.value)
      {
        return Variable(x.value.linearForward(packed: packed, outputs: outputs, bias: bias?.value))
      }
      if GradientRecording.isEnabled { packedWeight.release() }
      return x.linear(weight: weight.variable(), bias: bias?.variable())
    }
  }

  public func copy() -> Layer { Linear(weight: weight.copy(), bias: bias?.copy()) }
}

/// 2-D convolution over NCHW, weight [out, in/groups, kh, kw].
public final class Conv2d: Layer {
  public let weight: Parameter
  public let bias: Parameter?
  public var stride: [Int]
  public var padding: [Int]
  public var dilation: [Int]
  public var groups: Int

  public init(
    weight: Parameter, bias: Parameter?, stride: [Int] = [1, 1], padding: [Int] = [0, 0, 0, 0],
    dilation: [Int] = [1, 1], groups: Int = 1
  ) {
    self.weight = weight
    self.bias = bias
    self.stride = stride
    self.padding = padding.count == 2 ? padding + padding : padding
    self.dilation = dilation
    self.groups = groups
  }

  public convenience init(
    inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1,
    generator: inout SeededGenerator
  ) {
    let fanIn = inChannels / groups * kernel * kernel
    let bound = (6 / Float(fanIn)).squareRoot()
    self.init(
      weight: Parameter(
        .uniform([outChannels, inChannels / groups, kernel, kernel], low: -bound, high: bound, generator: &generator)),
      bias: Parameter(.zeros([outChannels])), stride: [stride, stride], padding: [padding, padding],
      groups: groups)
  }

  public var spec: LayerSpec {
    LayerSpec(
      op: "conv2d",
      attributes: [
        "in": .int(weight.shape[1] * groups), "out": .int(weight.shape[0]),
        "kernel": .ints([weight.shape[2], weight.shape[3]]),
        "stride": .ints(stride), "padding": .ints(padding), "dilation": .ints(dilation), "groups": .int(groups),
        "bias": .bool(bias != nil),
      ])
  }
  public var parameters: [(name: String, parameter: Parameter)] {
    [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
  }
  /// Variable.conv2d's forward: one input channel per group runs the direct depthwise kernel.
  public var kernelName: String { weight.shape[1] == 1 && groups > 1 ? "depthwise-direct" : "im2col+sgemm" }
  public var effectiveWeight: Tensor<Float>? { weight.value }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    inputs[0].conv2d(
      weight: weight.variable(), bias: bias?.variable(), stride: stride, padding: padding, dilation: dilation,
      groups: groups)
  }

  public func copy() -> Layer {
    Conv2d(
      weight: weight.copy(), bias: bias?.copy(), stride: stride, padding: padding, dilation: dilation, groups: groups)
  }
}

/// Batch normalisation over axis 1 of [N, C] or [N, C, H, W].
public final class BatchNorm: Layer {
  public let gamma: Parameter
  public let beta: Parameter
  public let runningMean: Parameter
  public let runningVariance: Parameter
  public var epsilon: Float
  public var momentum: Float

  public init(channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
    gamma = Parameter(Tensor(repeating: 1, shape: [channels]))
    beta = Parameter(.zeros([channels]))
    runningMean = Parameter(.zeros([channels]), isTrainable: false)
    runningVariance = Parameter(Tensor(repeating: 1, shape: [channels]), isTrainable: false)
    self.epsilon = epsilon
    self.momentum = momentum
  }

  public var channels: Int { gamma.shape[0] }
  public var spec: LayerSpec {
    LayerSpec(
      op: "batchnorm",
      attributes: ["channels": .int(channels), "epsilon": .float(epsilon), "momentum": .float(momentum)])
  }
  public var parameters: [(name: String, parameter: Parameter)] {
    [("weight", gamma), ("bias", beta), ("running_mean", runningMean), ("running_var", runningVariance)]
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    if context.isTraining {
      let (y, stats) = inputs[0].batchNormTraining(gamma: gamma.variable(), beta: beta.variable(), epsilon: epsilon)
      runningMean.value = runningMean.value * (1 - momentum) + stats.mean * momentum
      runningVariance.value = runningVariance.value * (1 - momentum) + stats.variance * momentum
      return y
    }
    return inputs[0].batchNormInference(
      gamma: gamma.variable(), beta: beta.variable(), runningMean: runningMean.value,
      runningVariance: runningVariance.value, epsilon: epsilon)
  }

  public var channelFlow: ChannelFlow { .perChannel }

  public func copy() -> Layer {
    let other = BatchNorm(channels: channels, epsilon: epsilon, momentum: momentum)
    for (mine, theirs) in zip(parameters, other.parameters) { theirs.parameter.value = mine.parameter.value }
    return other
  }
}

/// Max or average pooling over NCHW.
public final class Pool2d: Layer {
  public enum Kind: String, Sendable { case max, average }
  public let kind: Kind
  public let geometry: WindowGeometry
  public let countIncludePad: Bool

  public init(_ kind: Kind, geometry: WindowGeometry, countIncludePad: Bool = false) {
    self.kind = kind
    self.geometry = geometry
    self.countIncludePad = countIncludePad
  }

  public var spec: LayerSpec {
    var attributes: [String: AttributeValue] = [
      "kernel": .ints([geometry.kernelHeight, geometry.kernelWidth]), "stride": .ints(geometry.stride),
      "padding": .ints(geometry.padding), "dilation": .ints(geometry.dilation), "ceil_mode": .bool(geometry.ceilMode),
    ]
    if kind == .average { attributes["count_include_pad"] = .bool(countIncludePad) }
    return LayerSpec(op: kind == .max ? "maxpool2d" : "avgpool2d", attributes: attributes)
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    kind == .max ? inputs[0].maxPool2d(geometry) : inputs[0].avgPool2d(geometry, countIncludePad: countIncludePad)
  }

  public var channelFlow: ChannelFlow { .perChannel }

  public func copy() -> Layer { Pool2d(kind, geometry: geometry, countIncludePad: countIncludePad) }
}

/// Parameter-free layers: activations, reshapes, joins.
public final class Function: Layer {
  public enum Kind: Sendable, Equatable {
    case relu, gelu, silu, sigmoid, tanh, softmax, logSoftmax
    /// GELU's tanh approximation (GPT-2's "gelu_new"); `gelu` is the exact erf form.
    case geluTanh
    case leakyRelu(slope: Float)
    case flatten(startAxis: Int)
    case globalAvgPool
    case dropout(rate: Float)
    case add
    case concat(axis: Int)
  }
  public let kind: Kind

  public init(_ kind: Kind) { self.kind = kind }

  public var spec: LayerSpec {
    switch kind {
    case .relu: return LayerSpec(op: "relu")
    case .gelu: return LayerSpec(op: "gelu")
    case .geluTanh: return LayerSpec(op: "gelu_tanh")
    case .silu: return LayerSpec(op: "silu")
    case .sigmoid: return LayerSpec(op: "sigmoid")
    case .tanh: return LayerSpec(op: "tanh")
    case .softmax: return LayerSpec(op: "softmax")
    case .logSoftmax: return LayerSpec(op: "log_softmax")
    case .leakyRelu(let slope): return LayerSpec(op: "leaky_relu", attributes: ["slope": .float(slope)])
    case .flatten(let axis): return LayerSpec(op: "flatten", attributes: ["start_axis": .int(axis)])
    case .globalAvgPool: return LayerSpec(op: "global_avgpool")
    case .dropout(let rate): return LayerSpec(op: "dropout", attributes: ["rate": .float(rate)])
    case .add: return LayerSpec(op: "add")
    case .concat(let axis): return LayerSpec(op: "concat", attributes: ["axis": .int(axis)])
    }
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    switch kind {
    case .relu: return x.relu()
    case .gelu: return x.gelu()
    case .geluTanh: return x.geluTanh()
    case .silu: return x.silu()
    case .sigmoid: return x.sigmoid()
    case .tanh: return x.tanh()
    case .softmax: return x.softmax()
    case .logSoftmax: return x.logSoftmax()
    case .leakyRelu(let slope): return x.leakyRelu(slope: slope)
    case .flatten(let axis): return x.flattened(startAxis: axis)
    case .globalAvgPool: return x.globalAvgPool2d()
    case .dropout(let rate): return context.isTraining ? x.dropout(rate: rate, generator: &context.generator) : x
    case .add: return inputs.dropFirst().reduce(x, +)
    case .concat(let axis): return Variable.concatenate(inputs, axis: axis)
    }
  }

  public var channelFlow: ChannelFlow {
    switch kind {
    case .relu, .gelu, .geluTanh, .silu, .sigmoid, .tanh, .leakyRelu, .dropout, .add: return .elementwise
    case .globalAvgPool: return .perChannel
    case .flatten: return .reshape
    case .concat(let axis): return .concat(axis: axis)
    case .softmax, .logSoftmax: return .opaque
    }
  }

  public func copy() -> Layer { Function(kind) }
}
