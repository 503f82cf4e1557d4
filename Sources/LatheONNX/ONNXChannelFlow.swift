import LatheTensor

// How imported operators carry channels, for structured pruning (`ChannelFlow`). Kinds left
// out (transpose, slice, gather, pad, reductions, softmax, LRN...) stay `.opaque`: pruning keeps
// the channels they read whole.

extension ONNXOp {
  public var channelFlow: ChannelFlow {
    switch kind {
    case .identity, .unary, .sub, .mul, .div, .elu, .selu, .softplus, .softsign, .hardSigmoid, .clip:
      return .elementwise
    case .reshape, .flatten, .squeeze, .unsqueeze: return .reshape
    case .globalMaxPool: return .perChannel
    default: return .opaque
    }
  }
}

extension ONNXMathOp {
  public var channelFlow: ChannelFlow {
    switch kind {
    case .unary, .celu, .thresholdedRelu, .shrink, .pow, .mod, .variadic: return .elementwise
    case .reduce: return .opaque
    }
  }
}

extension ONNXConstantLayer {
  public var channelFlow: ChannelFlow { .constant }
}
