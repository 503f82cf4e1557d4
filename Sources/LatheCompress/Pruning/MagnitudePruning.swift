import LatheTensor

/// Unstructured magnitude pruning: the smallest weights (by absolute value) get a zero in
/// their parameter's mask, layer by layer or ranked globally across layers.
public enum MagnitudePruning {
  /// The weights pruning may touch: every Linear and Conv2d weight (not biases or batch norm).
  public static func prunableWeights(of model: Model) -> [(layer: String, parameter: Parameter)] {
    model.nodes.compactMap { node in
      if let linear = node.layer as? Linear { return (node.name, linear.weight) }
      if let conv = node.layer as? Conv2d { return (node.name, conv.weight) }
      return nil
    }
  }

  /// Sets masks so each layer reaches its own sparsity (fraction of zeros).
  public static func pruneLayers(_ weights: [(layer: String, parameter: Parameter)], sparsity: (String) -> Double?) {
    for (layer, parameter) in weights {
      guard let target = sparsity(layer) else { continue }
      let magnitudes = parameter.value.scalars.map(abs)
      let count = Int((Double(magnitudes.count) * target).rounded())
      setMask(parameter, keepingAbove: threshold(magnitudes, removing: count), removing: count)
    }
  }

  /// Sets masks so that `sparsity` of all the given weights together are zero, removing the
  /// globally smallest: layers with many small weights lose more.
  public static func pruneGlobally(_ weights: [(layer: String, parameter: Parameter)], sparsity: Double) {
    let all = weights.flatMap { $0.parameter.value.scalars.map(abs) }
    let count = Int((Double(all.count) * sparsity).rounded())
    let cut = threshold(all, removing: count)
    // Ties at the threshold are broken layer by layer so the total is exact.
    var budget = count - all.filter { $0 < cut }.count
    for (_, parameter) in weights {
      let ties = parameter.value.scalars.filter { abs($0) == cut }.count
      let take = min(ties, max(budget, 0))
      budget -= take
      setMask(parameter, keepingAbove: cut, removing: parameter.value.scalars.filter { abs($0) < cut }.count + take)
    }
  }

  /// The value below which `count` of the magnitudes fall (the count-th smallest).
  static func threshold(_ magnitudes: [Float], removing count: Int) -> Float {
    guard count > 0 else { return -1 }
    guard count < magnitudes.count else { return .infinity }
    return magnitudes.sorted()[count - 1]
  }

  /// Masks the `removing` smallest elements: all below `cut`, then ties at `cut` in order.
  /// Elements an earlier mask removed stay removed.
  static func setMask(_ parameter: Parameter, keepingAbove cut: Float, removing count: Int) {
    let values = parameter.value.scalars
    let previous = parameter.mask?.scalars
    var mask = [Float](repeating: 1, count: values.count)
    var removed = 0
    for i in values.indices where abs(values[i]) < cut || previous?[i] == 0 {
      mask[i] = 0
      removed += 1
    }
    for i in values.indices where removed < count && mask[i] == 1 && abs(values[i]) == cut {
      mask[i] = 0
      removed += 1
    }
    parameter.mask = Tensor(shape: parameter.shape, scalars: mask)
    parameter.applyMask()
  }

  /// Fraction of exact zeros in a weight.
  public static func sparsity(of parameter: Parameter) -> Double {
    Double(parameter.zeroCount) / Double(max(parameter.value.count, 1))
  }
}
