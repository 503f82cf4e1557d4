/// What a forward pass needs besides its inputs: training or evaluation, and the random
/// source dropout draws from.
public struct ForwardContext {
  public var isTraining: Bool
  public var generator: SeededGenerator
  /// Keys and values of the tokens already run, for generating one token at a time; nil
  /// (the default) runs each pass on its own.
  public var cache: KVCache?

  public init(isTraining: Bool, seed: UInt64 = 0, cache: KVCache? = nil) {
    self.isTraining = isTraining
    self.generator = SeededGenerator(seed: seed)
    self.cache = cache
  }

  public static var inference: ForwardContext { ForwardContext(isTraining: false) }
}

/// A node's computation. Layers are classes because they own parameters that optimizers and
/// compression steps update in place; `copy()` gives an independent snapshot.
public protocol Layer: AnyObject {
  /// The layer as data, for model files.
  var spec: LayerSpec { get }
  /// Parameters by local name ("weight", "bias", "running_mean").
  var parameters: [(name: String, parameter: Parameter)] { get }
  func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable
  func copy() -> Layer
  /// A short name for the kernel this layer runs, for `lathe inspect`.
  var kernelName: String { get }
  /// What this layer writes to a model file, by local name. Layers that keep their weights in
  /// another form (int8, codebooks, sparse rows) override this and `restore`.
  var storedTensors: [(name: String, tensor: AnyTensor)] { get }
  /// Rebuilds the layer's state from a file's tensors (local names); `node` names errors.
  func restore(from tensors: [String: AnyTensor], node: String) throws(ModelError)
  /// Counts and storage of the layer's weights, for reports.
  var statistics: LayerStatistics { get }
  /// Whether a training step may still run on a model holding this layer (default true).
  /// Int8 layers say no: they pass no gradient, and the conversion that makes them leaves only
  /// layers (batch norm) that would train alone.
  var allowsTraining: Bool { get }
  /// The dense fp32 weight the layer computes with, whatever form it keeps it in (decoded,
  /// dequantized), output channels first; nil (the default) for layers without one. The layer
  /// inspector reads this, so a new layer type shows its weights by implementing it.
  var effectiveWeight: Tensor<Float>? { get }
  /// How the layer carries the channels of what it reads, for structured pruning (default
  /// `.opaque`: a reader that pruning does not understand, which keeps its channels whole).
  /// Linear and Conv2d are not asked: pruning knows their weights.
  var channelFlow: ChannelFlow { get }
}

/// How a layer's output channels follow its inputs' channels: what structured pruning needs to
/// know to remove channels across a graph (`ChannelGroups` in LatheCompress).
public enum ChannelFlow: Sendable, Equatable {
  /// Anything else: the channels it reads stay as they are.
  case opaque
  /// Element by element over inputs that broadcast against each other (activations,
  /// arithmetic, Add, dropout): an input's channel c only ever meets channel c of the others.
  case elementwise
  /// Channel by channel over axis 1 of [N, C, ...] (batch norm, pooling, global pooling); the
  /// layer's own per-channel parameters along their axis 0 are removed with the channels.
  case perChannel
  /// Reshapes only (flatten, reshape, squeeze): pruning follows it where the shapes show
  /// [N, C, ...] folded into [N, C·rest], and runs a flatten from axis 1 there once pruned.
  case reshape
  /// Joins its inputs along `axis`.
  case concat(axis: Int)
  /// Reads nothing and returns its one parameter (an imported initializer): sliced with the
  /// channels of the single elementwise layer that reads it.
  case constant
}

/// How many weights a layer has and how they are stored.
public struct LayerStatistics: Sendable, Equatable {
  /// Logical weights and biases (what the fp32 layer would hold), not running statistics.
  public var parameters: Int
  /// Of those, how many are not zero.
  public var nonzeros: Int
  /// Bytes of every tensor the layer stores in a file.
  public var storedBytes: Int
  /// Stored bits per logical parameter (32 for fp32).
  public var bitsPerParameter: Double
  /// How weights are stored: "f32", "int8 per-channel", "5-bit codebook, CSR"...
  public var storage: String

  public init(parameters: Int, nonzeros: Int, storedBytes: Int, bitsPerParameter: Double, storage: String) {
    self.parameters = parameters
    self.nonzeros = nonzeros
    self.storedBytes = storedBytes
    self.bitsPerParameter = bitsPerParameter
    self.storage = storage
  }

  public static let empty = LayerStatistics(
    parameters: 0, nonzeros: 0, storedBytes: 0, bitsPerParameter: 0, storage: "-")
}

extension Layer {
  public var parameters: [(name: String, parameter: Parameter)] { [] }
  public var kernelName: String { spec.op }
  public var op: String { spec.op }

  public var storedTensors: [(name: String, tensor: AnyTensor)] {
    parameters.map { ($0.name, .float32($0.parameter.value)) }
  }

  public func restore(from tensors: [String: AnyTensor], node: String) throws(ModelError) {
    for (name, parameter) in parameters {
      try parameter.restore(from: tensors[name], name: "\(node).\(name)")
    }
  }

  public var allowsTraining: Bool { true }
  public var effectiveWeight: Tensor<Float>? { nil }
  public var channelFlow: ChannelFlow { .opaque }

  public var statistics: LayerStatistics {
    let trainable = parameters.filter { $0.parameter.isTrainable }
    guard !parameters.isEmpty else { return .empty }
    let count = trainable.reduce(0) { $0 + $1.parameter.value.count }
    let zeros = trainable.reduce(0) { $0 + $1.parameter.zeroCount }
    let bytes = storedTensors.reduce(0) { $0 + $1.tensor.byteCount }
    return LayerStatistics(
      parameters: count, nonzeros: count - zeros, storedBytes: bytes,
      bitsPerParameter: count == 0 ? 0 : Double(bytes * 8) / Double(count), storage: "f32")
  }
}

/// A layer that stands in while a model file is read and, once `restore` has seen its
/// tensors, names the layer to use instead (compressed layers decode into their real form).
public protocol LayerPlaceholder: Layer {
  var resolved: Layer? { get }
}

/// A layer whose weights are fixed when it is built (compressed and encoded forms): a model
/// file loads it through a `LayerPlaceholder`, which builds a new one from the file's tensors.
/// Restoring tensors into one in place, as `Model.loadState` would, is refused with
/// `ModelError.notRestorable` instead of being written into a layer that cannot hold them.
public protocol LoadedThroughPlaceholder: Layer {}

extension LoadedThroughPlaceholder {
  public func restore(from tensors: [String: AnyTensor], node: String) throws(ModelError) {
    throw .notRestorable(node: node, op: spec.op)
  }
}

/// Makes layers for ops that LatheTensor does not know (quantized, sparse, imported), so
/// model files holding them load through the same path. Returns nil for ops it does not handle.
public protocol LayerBuilding: Sendable {
  func makeLayer(_ spec: LayerSpec) throws(ModelError) -> Layer?
}

/// A layer that applies a ReLU after its own product, because a compression step folded the
/// graph's ReLU node into it (sparse and int8 kernels clamp in their epilogue). The ReLU node is
/// gone from the graph, so anything that rewrites the layer in another form (ONNX export, the
/// layer table) must write the activation back from here.
public protocol ReLUFolding: Layer {
  var relu: Bool { get }
}
