/// A node of the autodiff graph: a value, the gradient accumulated into it, and how to pass
/// a gradient back to the variables it was computed from (micrograd's idea, on tensors).
///
/// Operations on variables record a backward closure only while gradients are being recorded
/// and some input needs a gradient, so inference builds no graph at all.
public final class Variable {
  public let value: Tensor<Float>
  public var grad: Tensor<Float>?
  public let requiresGrad: Bool
  let parents: [Variable]
  let backward: ((Tensor<Float>) -> [Tensor<Float>?])?

  /// A leaf: an input (no gradient) or a trainable tensor (`requiresGrad`).
  public init(_ value: Tensor<Float>, requiresGrad: Bool = false) {
    self.value = value
    self.requiresGrad = requiresGrad
    self.parents = []
    self.backward = nil
  }

  /// The result of an operation. `backward` maps the gradient of this result to one gradient
  /// per parent (nil for parents that need none); it is kept only when some parent needs one.
  public init(_ value: Tensor<Float>, parents: [Variable], backward: @escaping (Tensor<Float>) -> [Tensor<Float>?]) {
    self.value = value
    let needed = GradientRecording.isEnabled && parents.contains { $0.requiresGrad }
    self.requiresGrad = needed
    self.parents = needed ? parents : []
    self.backward = needed ? backward : nil
  }

  public var shape: [Int] { value.shape }

  /// Back-propagates from this (usually scalar) variable. The seed gradient defaults to ones.
  public func backpropagate(seed: Tensor<Float>? = nil) {
    let order = topologicalOrder()
    grad = seed ?? Tensor(repeating: 1, shape: value.shape)
    for node in order.reversed() {
      guard let backward = node.backward, let g = node.grad else { continue }
      let parentGrads = backward(g)
      for (parent, pg) in zip(node.parents, parentGrads) where parent.requiresGrad {
        guard let pg else { continue }
        precondition(pg.shape == parent.value.shape, "gradient shape \(pg.shape) for value \(parent.value.shape)")
        if parent.grad == nil {
          parent.grad = pg
        } else {
          parent.grad!.addScaled(pg)
        }
      }
      // Interior gradients are no longer needed once passed on; leaves keep theirs.
      if !node.parents.isEmpty { node.grad = nil }
    }
  }

  private func topologicalOrder() -> [Variable] {
    var order: [Variable] = []
    var visited = Set<ObjectIdentifier>()
    // Iterative depth-first search: deep graphs must not overflow the stack.
    var stack: [(Variable, Bool)] = [(self, false)]
    while let (node, expanded) = stack.popLast() {
      if expanded {
        order.append(node)
        continue
      }
      guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
      stack.append((node, true))
      for parent in node.parents where parent.requiresGrad && !visited.contains(ObjectIdentifier(parent)) {
        stack.append((parent, false))
      }
    }
    return order
  }
}

/// Whether operations record the graph for backward. On by default; switched off for
/// evaluation and benchmarks with `GradientRecording.disabled { ... }`.
public enum GradientRecording {
  @TaskLocal static var enabled = true

  public static var isEnabled: Bool { enabled }

  public static func disabled<R>(_ body: () throws -> R) rethrows -> R {
    try $enabled.withValue(false, operation: body)
  }
}
