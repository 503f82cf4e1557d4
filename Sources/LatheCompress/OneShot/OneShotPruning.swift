import LatheTensor

/// The `prune` step's mask methods for Linear layers that go beyond ranking all of a layer's
/// weights by magnitude: N:M magnitude (no data), Wanda and SparseGPT (calibrated layer by
/// layer on the train split's inputs, `SequentialCalibration`). Each leaves the layer's weight
/// with a `Parameter.mask` (1 keep, 0 removed) applied, as magnitude pruning does, so
/// fine-tuning keeps the zeros and `Deployment.inferenceModel` stores the layer sparse.
enum OneShotPruning {
  static func prune(
    _ model: Model, layers: [String], sparsity: (String) -> Double, config c: PruneConfig, context: StepContext
  ) throws {
    guard c.method != .magnitude else {
      // N:M by magnitude: the largest N of every M, no data.
      for name in layers {
        guard let linear = model.nodes.first(where: { $0.name == name })?.layer as? Linear else { continue }
        let weight = linear.weight
        let scores = weight.value.contiguous().scalars.map { Double(abs($0)) }
        var mask = c.pattern.mask(
          scores: scores, rows: weight.shape[0], columns: weight.shape[1], sparsity: sparsity(name))
        if let old = weight.mask?.scalars {
          for i in mask.indices where old[i] == 0 { mask[i] = 0 }
        }
        weight.mask = Tensor(shape: weight.shape, scalars: mask)
        weight.applyMask()
      }
      return
    }
    let train = try SequentialCalibration.trainData(context, source: c.source, key: "method", method: c.method.rawValue)
    var errors: [String: Double] = [:]
    try SequentialCalibration.run(
      model, layers: layers, data: train, samples: c.calibrationSamples, context: context,
      progress: 0...(c.training.configuration.epochs > 0 ? 0.05 : 1), label: c.method.rawValue
    ) { name, linear, statistics in
      let weight = linear.weight
      let original = weight.value.contiguous().scalars
      switch c.method {
      case .sparsegpt:
        let result = try SparseGPT.prune(
          weight.value, hessian: statistics.hessian, sparsity: sparsity(name), pattern: c.pattern, damp: c.damp,
          previous: weight.mask)
        weight.value = Tensor(shape: weight.shape, scalars: result.weight)
        weight.mask = Tensor(shape: weight.shape, scalars: result.mask)
      default:
        let mask = Wanda.mask(
          weight.value, channelNorms: statistics.channelNorms, sparsity: sparsity(name), pattern: c.pattern,
          previous: weight.mask)
        weight.mask = Tensor(shape: weight.shape, scalars: mask)
      }
      weight.applyMask()
      errors[name] = statistics.relativeOutputError(
        original, weight.value.contiguous().scalars, rows: linear.outputs)
    }
    context.findings.layerOutputErrors = errors
  }
}
