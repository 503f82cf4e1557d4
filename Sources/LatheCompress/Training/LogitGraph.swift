import LatheTensor

extension Model {
  /// The graph a training loss reads: this model without a final softmax over the classes,
  /// sharing its layers (training it trains this model), or the model itself. Cross-entropy and
  /// distillation take logits; fed probabilities (an imported classifier that ends in Softmax)
  /// their gradients almost vanish, and a teacher's probabilities softened by a temperature are
  /// nearly uniform. Softmax keeps the order of its inputs, so predictions do not change.
  public var logitGraph: Model {
    guard nodes.count > 1, extraOutputs.isEmpty, let last = nodes.last, (last.layer as? Function)?.kind == .softmax,
      last.inputs == [nodes[nodes.count - 2].name],
      let graph = try? Model(
        architecture: architecture, inputShape: inputShape, classCount: classCount, nodes: Array(nodes.dropLast()),
        metadata: metadata, extraInputs: extraInputs)
    else { return self }
    graph.symbolicAxes = symbolicAxes
    return graph
  }
}
