import Foundation

/// A named tensor a layer owns: trainable weights and biases, or state such as batch norm's
/// running statistics (`isTrainable == false`).
///
/// A parameter can carry a 0/1 `mask` of its own shape: pruning sets it, and every update keeps
/// masked elements at zero, so sparsity survives fine-tuning.
public final class Parameter {
  public var value: Tensor<Float>
  public var grad: Tensor<Float>?
  public var mask: Tensor<Float>?
  /// Set by weight sharing: every element is one of a few shared values (Deep Compression).
  public var codebook: WeightCodebook?
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

  /// Takes its value from a file's tensor: present, fp32, the same shape, finite.
  public func restore(from stored: AnyTensor?, name: String) throws(ModelError) {
    guard let stored else { throw .missingParameter(name) }
    guard let tensor = stored.float32 else {
      throw .wrongType(parameter: name, expected: "F32", found: stored.dtype.rawValue)
    }
    guard tensor.shape == shape else { throw .shapeMismatch(parameter: name, expected: shape, found: tensor.shape) }
    guard tensor.withUnsafeBufferPointer({ $0.allSatisfy(\.isFinite) }) else { throw .nonFinite(parameter: name) }
    value = tensor
  }

  public func copy() -> Parameter {
    let other = Parameter(value, isTrainable: isTrainable)
    other.mask = mask
    other.codebook = codebook
    other.isFrozen = isFrozen
    return other
  }
}

/// Shared values for a weight tensor: element i holds `centroids[assignments[i]]`. Pruned
/// elements (mask 0) are assigned to no centroid and stay exactly zero.
public struct WeightCodebook: Sendable, Equatable {
  public var centroids: [Float]
  /// One entry per element; `WeightCodebook.pruned` for elements a mask removed.
  public var assignments: [UInt16]
  public static let pruned = UInt16.max

  public init(centroids: [Float], assignments: [UInt16]) {
    self.centroids = centroids
    self.assignments = assignments
  }

  /// Bits needed to index a centroid.
  public var bits: Int { Self.bits(indexing: centroids.count) }

  /// Bits needed to index `count` values (at least 1).
  public static func bits(indexing count: Int) -> Int {
    var bits = 1
    while (1 << bits) < count { bits += 1 }
    return bits
  }

  /// The weight tensor these shared values stand for.
  public func weights(shape: [Int]) -> Tensor<Float> {
    Tensor(shape: shape) { out in
      for i in 0..<out.count {
        let a = assignments[i]
        out[i] = a == Self.pruned ? 0 : centroids[Int(a)]
      }
    }
  }
}
