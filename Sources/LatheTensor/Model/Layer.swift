/// What a forward pass needs besides its inputs: training or evaluation, and the random
/// source dropout draws from.
public struct ForwardContext {
  public var isTraining: Bool
  public var generator: SeededGenerator

  public init(isTraining: Bool, seed: UInt64 = 0) {
    self.isTraining = isTraining
    self.generator = SeededGenerator(seed: seed)
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
}

extension Layer {
  public var parameters: [(name: String, parameter: Parameter)] { [] }
  public var kernelName: String { spec.op }
  public var op: String { spec.op }
}
