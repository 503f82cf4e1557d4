/// Why a dataset cannot feed a model, naming both sides, so the user sees which file to change.
public struct DatasetMismatch: Error, CustomStringConvertible, Sendable {
  public var description: String
}

extension Dataset {
  /// The examples viewed in the model's input shape (a flat CSV row feeding an 8x8 model), once
  /// checked that they fit: the same number of values per example, an output of class scores
  /// `[N, classes]`, and every label one of those classes. Everything that trains or scores a
  /// model on a dataset (eval, run, train, the workbench) calls this first, so a mismatch is an
  /// error naming both shapes instead of a trap inside a reshape or an argmax. With
  /// `classifier` false only the input is checked (eval against a reference model, label-free
  /// metrics); a classifier needs labels, so a non-empty label-free set is refused.
  public func fitted(to model: Model, modelName: String, classifier: Bool = true) throws(DatasetMismatch) -> Dataset {
    if nextTokens != nil { return try fittedText(to: model, modelName: modelName) }
    if classifier && !isLabelled && count > 0 {
      throw DatasetMismatch(
        description: "\(name) has no labels (an .npy, or an .npz without a \"y\" array), "
          + "but top-1 accuracy and training \(modelName) need one class label per example")
    }
    if count > 0, let missing = model.missingFeeds(in: self) {
      throw DatasetMismatch(description: "\(modelName): \(missing)")
    }
    let wanted = model.inputShape
    // A model with open sizes (a width, a length) takes examples that agree on the others.
    let open = Set(model.symbolicAxes)
    let fitsOpenSizes =
      !open.isEmpty && sampleShape.count == wanted.count
      && wanted.indices.allSatisfy { open.contains($0) || sampleShape[$0] == wanted[$0] }
    guard fitsOpenSizes || sampleShape.reduce(1, *) == wanted.reduce(1, *) else {
      throw DatasetMismatch(
        description: "\(modelName) reads examples of shape \(wanted), but \(name) has \(sampleShape)")
    }
    guard classifier else { return reshapedInputs(to: wanted, keepingOpenSizes: fitsOpenSizes) }
    let outputs = model.outputShapes()[model.nodes.last?.name ?? ""] ?? []
    guard outputs.count == 2 else {
      throw DatasetMismatch(
        description: "\(modelName) outputs shape \(outputs) per batch of one, not class scores [1, classes]: "
          + "top-1 accuracy on \(name) needs a classifier")
    }
    if let label = labels.first(where: { $0 < 0 || $0 >= outputs[1] }) {
      throw DatasetMismatch(
        description: "\(name) has label \(label), but \(modelName) scores \(outputs[1]) classes (0...\(outputs[1] - 1))"
      )
    }
    return reshapedInputs(to: wanted, keepingOpenSizes: fitsOpenSizes)
  }

  /// Text windows feed a language model (next-token scores [batch, sequence, vocabulary] at
  /// every position) whose positions cover a window and whose vocabulary holds every id (a byte
  /// model reads any text; a 100-token vocabulary would not). A model opened from another
  /// format (an exported GPT read back from ONNX) has no `TransformerConfig`: its output
  /// shape tells its vocabulary, and its input shape its length.
  private func fittedText(to model: Model, modelName: String) throws(DatasetMismatch) -> Dataset {
    let window = sampleShape.first ?? 0
    let vocabulary: Int
    if let config = model.transformerConfig {
      guard model.isLanguageModel else { throw notALanguageModel(modelName) }
      guard window <= config.positions else {
        throw DatasetMismatch(
          description: "\(name) has windows of \(window) tokens, but \(modelName) has \(config.positions) positions")
      }
      vocabulary = config.vocabulary
    } else {
      let output = model.outputShapes()[model.nodes.last?.name ?? ""] ?? []
      guard output.count == 3, model.inputShape.count == 1 else { throw notALanguageModel(modelName) }
      guard model.symbolicAxes.contains(0) || window == model.inputShape[0] else {
        throw DatasetMismatch(
          description: "\(name) has windows of \(window) tokens, but \(modelName) reads \(model.inputShape[0])")
      }
      vocabulary = output[2]
    }
    if let largest = inputs.scalars.max(), Int(largest) >= vocabulary {
      throw DatasetMismatch(
        description: "\(name) holds token id \(Int(largest)), but \(modelName)'s vocabulary is \(vocabulary)")
    }
    return self
  }

  private func notALanguageModel(_ modelName: String) -> DatasetMismatch {
    DatasetMismatch(
      description: "\(name) is text for a language model, but \(modelName) is not one (its output is not "
        + "next-token scores at every position)")
  }

  private func reshapedInputs(to wanted: [Int], keepingOpenSizes: Bool) -> Dataset {
    guard sampleShape != wanted, !keepingOpenSizes else { return self }
    var copy = self
    copy.inputs = inputs.reshaped([count] + wanted)
    return copy
  }
}

extension DatasetSplit {
  /// Both splits fitted to `model` (see `Dataset.fitted`).
  public func fitted(to model: Model, modelName: String, classifier: Bool = true) throws(DatasetMismatch)
    -> DatasetSplit
  {
    DatasetSplit(
      train: try train.fitted(to: model, modelName: modelName, classifier: classifier),
      test: try test.fitted(to: model, modelName: modelName, classifier: classifier))
  }
}

extension Model {
  /// The shape a batch of `count` examples of `data` takes: the model's input shape, or the
  /// data's own where the model leaves sizes open.
  public func batchShape(_ count: Int, of data: Dataset) -> [Int] {
    [count] + (symbolicAxes.isEmpty ? inputShape : data.sampleShape)
  }
}
