import LatheTensor

/// Calibrates Linear layers one after another, as GPTQ, SparseGPT, Wanda and AWQ do: in graph
/// order, each layer's input statistics come from the model already compressed up to it, so a
/// layer makes up for the error of the layers before it instead of fitting inputs it will
/// never see. Reads only the inputs of the calibration examples, never their labels.
///
/// Each layer costs one pass of the calibration examples through the model (the passes stop
/// at no layer: the engine runs whole graphs), which is cheap for the MLPs and small
/// transformers Lathe holds.
enum SequentialCalibration {
  /// Examples per forward pass while collecting.
  static let batchSize = 32

  /// Calls `compress` for each of `layers` (Linear layers of `model`, taken in graph order)
  /// with the statistics of its inputs over the first `samples` examples of `data`;
  /// `compress` replaces or changes the layer in `model` before the next one is measured.
  /// Progress goes from `progress.lowerBound` to its upper bound.
  static func run(
    _ model: Model, layers: [String], data: Dataset, samples: Int, keptRows: Int = 0, context: StepContext,
    progress: ClosedRange<Double> = 0...1, label: String,
    compress: (_ layer: String, _ linear: Linear, _ statistics: LayerInputStatistics) throws -> Void
  ) throws {
    let ordered = model.nodes.map(\.name).filter { layers.contains($0) }
    let count = min(samples, data.count)
    for (index, name) in ordered.enumerated() {
      try context.checkCancellation()
      let fraction = Double(index) / Double(max(ordered.count, 1))
      context.report(progress.lowerBound + (progress.upperBound - progress.lowerBound) * fraction, "\(name): \(label)")
      guard let linear = model.nodes.first(where: { $0.name == name })?.layer as? Linear else { continue }
      var statistics = LayerInputStatistics(columns: linear.inputs, keptRowLimit: keptRows)
      GradientRecording.disabled {
        var start = 0
        while start < count {
          let range = start..<min(start + batchSize, count)
          var context = ForwardContext.inference
          _ = model.forward(feeds: model.feeds(data, range).map { Variable($0) }, context: &context) { node, x, _ in
            if node.name == name { statistics.add(x[0].value) }
          }
          start = range.upperBound
        }
      }
      try compress(name, linear, statistics)
    }
  }

  /// Refuses a step that calibrates on a set without a train split, naming the setting that
  /// asked for calibration.
  static func trainData(_ context: StepContext, source: SettingSource, key: String, method: String) throws -> Dataset {
    let train = context.data.train
    guard train.count > 0 else {
      throw StepFailure(
        source.error(
          key, "\(method) calibrates on the train split's inputs, but \(train.name) has none"
        ).description)
    }
    return train
  }
}
