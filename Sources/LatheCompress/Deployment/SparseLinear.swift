import LatheTensor

/// An inference-only fully connected layer whose weight is stored compressed (pruned and/or
/// shared) and computed sparse: y = x·Wᵀ + b with W in compressed sparse rows, so work and
/// file size both shrink with the number of non-zeros. Dense enough weights run dense instead.
public final class SparseLinear: ReLUFolding {
  public let weights: EncodedWeights
  public let bias: Parameter?
  let rowPointers: [Int32]
  let columns: [Int32]
  let values: [Float]
  /// A ReLU folded into the output (the graph's ReLU node after this layer is removed).
  public let relu: Bool
  /// Which path runs, for one example and for batches: chosen by timing them on this machine
  /// the first time a layer of this shape is built, since the break-even density depends on
  /// the layer's shape (SparseKernelChoices); copies keep it.
  let kernels: SparseKernelChoice
  var singleExamplePath: SparseKernels.SingleExamplePath { kernels.singleExample }
  var sparseForBatches: Bool { kernels.sparseForBatches }
  /// The gather-free layout for one example, kept when it won.
  let sliced: SlicedSparseRows?
  /// The dense weight, kept when the dense path won for some batch size.
  let denseWeight: Tensor<Float>?
  /// The dense weight packed for products of few rows, as `Linear` keeps it (shared by copies:
  /// the weight never changes).
  private let packedDense: PackedWeight

  public init(weights: EncodedWeights, bias: Parameter?, relu: Bool = false) {
    self.weights = weights
    self.bias = bias
    self.relu = relu
    (rowPointers, columns, values) = weights.csr()
    let dense = weights.dense()
    let sliced = SlicedSparseRows(
      rows: weights.shape[0], cols: weights.shape[1], rowPointers: rowPointers, columns: columns, values: values)
    let packed = PackedWeight()
    let choice = SparseKernels.choosePaths(
      density: weights.density, rowPointers: rowPointers, columns: columns, values: values, sliced: sliced,
      dense: dense, packed: packed, bias: bias?.value)
    packedDense = packed
    kernels = choice
    self.sliced = choice.singleExample == .sliced ? sliced : nil
    denseWeight = choice.singleExample != .dense && choice.sparseForBatches ? nil : dense
    if denseWeight == nil { packed.release() }  // packed only to be timed
  }

  /// A copy of `layer` with its own bias: the weights (immutable) are shared and the kernels
  /// are the ones `layer` chose, so a copy never times anything.
  private init(copying layer: SparseLinear) {
    weights = layer.weights
    bias = layer.bias?.copy()
    relu = layer.relu
    (rowPointers, columns, values) = (layer.rowPointers, layer.columns, layer.values)
    kernels = layer.kernels
    sliced = layer.sliced
    denseWeight = layer.denseWeight
    packedDense = layer.packedDense
  }

  public var inputs: Int { weights.shape[1] }
  public var outputs: Int { weights.shape[0] }

  public var spec: LayerSpec {
    LayerSpec(
      op: "sparse_linear",
      attributes: [
        "in": .int(inputs), "out": .int(outputs), "bias": .bool(bias != nil),
        "encoding": .string(weights.encoding.rawValue), "relu": .bool(relu),
      ])
  }

  public var parameters: [(name: String, parameter: Parameter)] { bias.map { [("bias", $0)] } ?? [] }
  public var kernelName: String {
    let one: String
    switch singleExamplePath {
    case .dense: one = "sgemm"  // packed once, as Linear runs it
    case .csr: one = "csr-spmv"
    case .sliced: one = "sliced-spmv"
    }
    return one + " (b1), " + (sparseForBatches ? "csr-spmm" : "sgemm")
  }

  public var storedTensors: [(name: String, tensor: AnyTensor)] {
    weights.storedTensors(prefix: "weight.") + (bias.map { [("bias", .float32($0.value))] } ?? [])
  }

  public var statistics: LayerStatistics { compressedStatistics(weights, bias: bias, stored: storedTensors) }

  /// Over the last axis like `Linear`: a [1, sequence, in] input is `sequence` rows, a batch.
  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    inputs[0].overLastAxis { Variable(product($0.value)) }
  }

  /// The product of rows x [batch, in], by the path chosen for its batch size.
  private func product(_ x: Tensor<Float>) -> Tensor<Float> {
    var y: Tensor<Float>
    if x.shape[0] == 1, let sliced {
      return SparseKernels.slicedProduct(x.contiguous(), sliced, bias: bias?.value, relu: relu)
    }
    let sparse = x.shape[0] == 1 ? singleExamplePath != .dense : sparseForBatches
    if let denseWeight, !sparse {
      y = SparseKernels.denseProduct(x, denseWeight, packed: packedDense, bias: bias?.value)
    } else {
      y = SparseKernels.linear(x, self, bias: bias?.value)
    }
    // A branch-free max so the loop vectorizes (a conditional store did not: 20% of batch-256 time).
    if relu { y.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = Swift.max(p[i], 0) } } }
    return y
  }

  public func copy() -> Layer { SparseLinear(copying: self) }
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
  case .codebook: storage = "\(WeightCodebook.bits(indexing: weights.codebook.count))-bit shared, sparse"
  case .huffman: storage = "shared, Huffman"
  }
  return LayerStatistics(
    parameters: parameters, nonzeros: nonzeros, storedBytes: bytes,
    bitsPerParameter: parameters == 0 ? 0 : Double(bytes * 8) / Double(parameters), storage: storage)
}

extension SparseLinear: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try ShapeRules.linear(inputs, in: self.inputs, out: outputs)
  }
}

extension EncodedConv2d: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] { try conv.outputShape(for: inputs) }
}
