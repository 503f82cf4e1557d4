import LatheTensor

/// Runs models over a dataset's inputs a batch at a time, so evaluation holds one batch of
/// outputs, never the whole set's.
public enum ModelOutputs {
  /// A model's outputs for examples `range` of `data`, one tensor per output (the first, then
  /// the model's extra outputs), its extra inputs fed from the data's named arrays.
  public static func outputs(of model: Model, for data: Dataset, _ range: Range<Int>) throws(EvaluationError)
    -> [Tensor<Float>]
  {
    let values = data.sampleShape.reduce(1, *)
    guard !model.symbolicAxes.isEmpty || model.inputShape.reduce(1, *) == values else {
      throw .inputShapeMismatch(model: model.architecture, expects: model.inputShape, values: values)
    }
    if let missing = model.missingFeeds(in: data) { throw .missingInput(model: model.architecture, reason: missing) }
    do {
      return try model.checkedPredict(feeds: model.feeds(data, range))
    } catch {
      throw .runFailed(error)
    }
  }

  /// Calls `body` with each batch's example range and every model's outputs for it (index as
  /// `models`).
  public static func forEachBatch(
    of models: [Model], data: Dataset, batchSize: Int = 256,
    _ body: (Range<Int>, [[Tensor<Float>]]) throws -> Void
  ) throws {
    let count = data.count
    var start = 0
    while start < count {
      let range = start..<min(start + max(batchSize, 1), count)
      try body(range, try models.map { model throws(EvaluationError) in try outputs(of: model, for: data, range) })
      start = range.upperBound
    }
  }
}

/// A model's outputs against a reference model's on the same inputs (see `OutputComparison`).
public enum ModelComparison {
  /// One result per output.
  public static func compare(
    _ candidate: Model, with reference: Model, on data: Dataset, batchSize: Int = 256
  ) throws -> [OutputComparison.Result] {
    var comparisons: [OutputComparison] = []
    try ModelOutputs.forEachBatch(of: [reference, candidate], data: data, batchSize: batchSize) { _, outputs in
      try comparisons.add(reference: outputs[0], candidate: outputs[1])
    }
    return comparisons.map(\.result)
  }
}

extension [OutputComparison] {
  /// Adds a batch of every output, starting one comparison per output on the first batch.
  public mutating func add(reference: [Tensor<Float>], candidate: [Tensor<Float>]) throws(EvaluationError) {
    guard reference.count == candidate.count else {
      throw .outputCountMismatch(reference: reference.count, candidate: candidate.count)
    }
    if isEmpty { self = reference.indices.map { OutputComparison(output: $0) } }
    guard count == reference.count else { throw .outputCountMismatch(reference: reference.count, candidate: count) }
    for i in indices { try self[i].add(reference: reference[i], candidate: candidate[i]) }
  }
}
