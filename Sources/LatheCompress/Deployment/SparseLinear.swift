import LatheTensor

/// An inference-only fully connected layer whose weight is stored compressed (pruned and/or
/// shared) and computed sparse: y = x·Wᵀ + b with W in compressed sparse rows, so work and
/// file size both shrink with the number of non-zeros. Dense enough weights run dense instead.
public final class SparseLinear: Layer {
  public let weights: EncodedWeights
  public let bias: Parameter?
  let rowPointers: [Int32]
  let columns: [Int32]
  let values: [Float]
  /// The dense weight, kept when the sparse kernel would be slower for some batch sizes.
  let denseWeight: Tensor<Float>?

  public init(weights: EncodedWeights, bias: Parameter?) {
    self.weights = weights
    self.bias = bias
    (rowPointers, columns, values) = weights.csr()
    let sparseAlways =
      SparseKernels.isFaster(density: weights.density, batch: 1)
      && SparseKernels.isFaster(density: weights.density, batch: 256)
    denseWeight = sparseAlways ? nil : weights.dense()
  }

  public var inputs: Int { weights.shape[1] }
  public var outputs: Int { weights.shape[0] }

  public var spec: LayerSpec {
    LayerSpec(
      op: "sparse_linear",
      attributes: [
        "in": .int(inputs), "out": .int(outputs), "bias": .bool(bias != nil),
        "encoding": .string(weights.encoding.rawValue),
      ])
  }

  public var parameters: [(name: String, parameter: Parameter)] { bias.map { [("bias", $0)] } ?? [] }
  public var kernelName: String {
    switch (
      SparseKernels.isFaster(density: weights.density, batch: 1),
      SparseKernels.isFaster(density: weights.density, batch: 256)
    ) {
    case (true, true): return "csr-spmv/spmm"
    case (true, false): return "csr-spmv (b1), sgemm"
    case (false, true): return "sgemm (b1), csr-spmm"
    case (false, false): return "sgemm"
    }
  }

  public var storedTensors: [(name: String, tensor: AnyTensor)] {
    weights.storedTensors(prefix: "weight.") + (bias.map { [("bias", .float32($0.value))] } ?? [])
  }

  public var statistics: LayerStatistics { compressedStatistics(weights, bias: bias, stored: storedTensors) }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0].value
    if let denseWeight, !SparseKernels.isFaster(density: weights.density, batch: x.shape[0]) {
      return inputs[0].linear(weight: Variable(denseWeight), bias: bias.map { Variable($0.value) })
    }
    return Variable(SparseKernels.linear(x, self, bias: bias?.value))
  }

  public func copy() -> Layer { SparseLinear(weights: weights, bias: bias?.copy()) }

  public func restore(from tensors: [String: AnyTensor], node: String) throws(ModelError) {
    preconditionFailure("SparseLinear is restored through CompressedLayers")
  }
}

/// A convolution whose weight is stored compressed; it decodes to a dense weight at load and
/// convolves densely (unstructured sparsity does not speed up small convolutions: structured
/// pruning does).
public final class EncodedConv2d: Layer {
  public let weights: EncodedWeights
  let conv: Conv2d

  public init(weights: EncodedWeights, template: Conv2d) {
    self.weights = weights
    conv = Conv2d(
      weight: Parameter(weights.dense(), isTrainable: false),
      bias: template.bias.map { Parameter($0.value, isTrainable: false) },
      stride: template.stride, padding: template.padding, dilation: template.dilation, groups: template.groups)
  }

  public var spec: LayerSpec {
    var s = conv.spec
    s.op = "encoded_conv2d"
    s.attributes["encoding"] = .string(weights.encoding.rawValue)
    return s
  }

  public var parameters: [(name: String, parameter: Parameter)] { conv.bias.map { [("bias", $0)] } ?? [] }
  public var kernelName: String { conv.kernelName }

  public var storedTensors: [(name: String, tensor: AnyTensor)] {
    weights.storedTensors(prefix: "weight.") + (conv.bias.map { [("bias", .float32($0.value))] } ?? [])
  }

  public var statistics: LayerStatistics { compressedStatistics(weights, bias: conv.bias, stored: storedTensors) }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    conv.forward(inputs, context: &context)
  }

  public func copy() -> Layer { EncodedConv2d(weights: weights, template: conv) }

  public func restore(from tensors: [String: AnyTensor], node: String) throws(ModelError) {
    preconditionFailure("EncodedConv2d is restored through CompressedLayers")
  }
}

func compressedStatistics(
  _ weights: EncodedWeights, bias: Parameter?, stored: [(name: String, tensor: AnyTensor)]
) -> LayerStatistics {
  let parameters = weights.count + (bias?.value.count ?? 0)
  let nonzeros = weights.positions.count + (bias.map { $0.value.count - $0.zeroCount } ?? 0)
  let bytes = stored.reduce(0) { $0 + $1.tensor.byteCount }
  let storage: String
  switch weights.encoding {
  case .csr: storage = "f32 sparse"
  case .codebook: storage = "\(bitsFor(weights.codebook.count))-bit shared, sparse"
  case .huffman: storage = "shared, Huffman"
  }
  return LayerStatistics(
    parameters: parameters, nonzeros: nonzeros, storedBytes: bytes,
    bitsPerParameter: parameters == 0 ? 0 : Double(bytes * 8) / Double(parameters), storage: storage)
}

/// Bits to index `count` values.
func bitsFor(_ count: Int) -> Int {
  var bits = 1
  while (1 << bits) < count { bits += 1 }
  return bits
}
