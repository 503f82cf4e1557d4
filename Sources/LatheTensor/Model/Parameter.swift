/// A named tensor a layer owns: trainable weights and biases, or state such as batch norm's
/// running statistics (`isTrainable == false`).
///
/// A parameter can carry a 0/1 `mask` of its own shape: pruning sets it, and every update keeps
/// masked elements at zero, so sparsity survives fine-tuning.
public final class Parameter {
  public var value: Tensor<Float>
  public var grad: Tensor<Float>?
  public var mask: Tensor<Float>?
  public let isTrainable: Bool
  /// Frozen parameters keep their values during training (transfer learning).
  public var isFrozen = false

  public init(_ value: Tensor<Float>, isTrainable: Bool = true) {
    self.value = value
    self.isTrainable = isTrainable
  }

  public var shape: [Int] { value.shape }

  /// The leaf of the current training step's graph, kept so its gradient can be collected
  /// and so a parameter used twice in one pass accumulates into one gradient.
  private var leaf: Variable?

  /// The graph leaf a forward pass reads; it needs a gradient only when training this tensor.
  public func variable() -> Variable {
    guard isTrainable && !isFrozen && GradientRecording.isEnabled else { return Variable(value) }
    if let leaf { return leaf }
    let created = Variable(value, requiresGrad: true)
    leaf = created
    return created
  }

  /// Moves the gradient of the last backward pass into `grad` and forgets the graph leaf, so
  /// the optimizer can update `value` in place without copying shared storage.
  public func collectGradient() {
    grad = leaf?.grad
    leaf = nil
  }

  /// Zeroes the masked elements of the value (after an optimizer step or a load).
  public func applyMask() {
    if let mask { value.multiply(by: mask) }
  }

  /// Elements that are exactly zero.
  public var zeroCount: Int { value.withUnsafeBufferPointer { $0.reduce(0) { $0 + ($1 == 0 ? 1 : 0) } } }

  public func copy() -> Parameter {
    let other = Parameter(value, isTrainable: isTrainable)
    other.mask = mask
    other.isFrozen = isFrozen
    return other
  }
}
