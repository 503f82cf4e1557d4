/// Examples held in memory: images as fp32 [N, C, H, W] scaled to [0, 1] (or features as
/// [N, F]), labels as class indices.
///
/// Two extensions serve models and files beyond single-input classifiers, both empty by default
/// so that every labelled single-input set behaves as it always did:
/// - `namedInputs` carries every input of a multi-input model by its graph input name (an
///   `.npz` keyed by input names fills it). `inputs` is then the primary one, the first name in
///   sorted order, so code that knows one input keeps working.
/// - `isLabelled` is false for sets without labels (an `.npy`, an `.npz` without `y`): `labels`
///   is then empty and `count` comes from the inputs' first axis. `fitted(to:)` refuses such a
///   set wherever labels are needed (training with a loss, accuracy) with a message, not a trap.
public struct Dataset: Sendable {
  public var name: String
  public var inputs: Tensor<Float>
  /// One class index per example, or empty when `isLabelled` is false.
  public var labels: [Int]
  public var classCount: Int
  /// Every input by name for multi-input models, each with the same first axis as `inputs`
  /// (which is one of them); empty for single-input sets.
  public var namedInputs: [String: Tensor<Float>]
  /// Whether `labels` holds one label per example. False for label-free sets.
  public var isLabelled: Bool
  /// What each example should read, for a sequence model scored by CTC decoding (an OCR line's
  /// characters as class indices): one sequence per example, or nil when the set has none. A
  /// set with these has no class `labels`.
  public var sequenceLabels: [[Int]]?
  /// The class a CTC model emits for "no label here" (0 in PaddleOCR and PyTorch's CTCLoss).
  public var ctcBlank = 0
  /// For text cut into windows for a language model: the token that follows each input
  /// position ([N, sequence], ids as floats), so training and perplexity score every position.
  /// nil for every other set.
  public var nextTokens: Tensor<Float>?

  public init(name: String, inputs: Tensor<Float>, labels: [Int], classCount: Int) {
    precondition(inputs.shape.first == labels.count, "\(labels.count) labels for inputs of shape \(inputs.shape)")
    self.name = name
    self.inputs = inputs
    self.labels = labels
    self.classCount = classCount
    self.namedInputs = [:]
    self.isLabelled = true
  }

  /// Text windows for a language model: `inputs` [N, sequence] token ids and the token after
  /// each position (`nextTokens`, same shape), over a vocabulary of `vocabulary` ids.
  public init(name: String, tokens inputs: Tensor<Float>, nextTokens: Tensor<Float>, vocabulary: Int) {
    precondition(
      inputs.shape == nextTokens.shape && inputs.rank == 2, "windows \(inputs.shape), next \(nextTokens.shape)")
    self.init(name: name, inputs: inputs, labels: nil, classCount: vocabulary)
    self.nextTokens = nextTokens
  }

  /// A set without labels, optionally with several named inputs. `inputs` must be one of
  /// `namedInputs` when those are given, and every named input must have the same example count;
  /// readers check both (with file names in their messages) before calling this.
  public init(
    name: String, inputs: Tensor<Float>, namedInputs: [String: Tensor<Float>] = [:], labels: [Int]?,
    classCount: Int
  ) {
    let count = inputs.shape.first ?? 0
    precondition(
      labels.map { $0.count == count } ?? true, "\(labels?.count ?? 0) labels for inputs of shape \(inputs.shape)")
    precondition(namedInputs.values.allSatisfy { $0.shape.first == count }, "named inputs of different lengths")
    self.name = name
    self.inputs = inputs
    self.labels = labels ?? []
    self.classCount = classCount
    self.namedInputs = namedInputs
    self.isLabelled = labels != nil
  }

  /// The number of examples: the inputs' first axis (equal to `labels.count` when labelled).
  public var count: Int { inputs.shape.first ?? 0 }

  /// The shape of one example, without the batch axis.
  public var sampleShape: [Int] { Array(inputs.shape.dropFirst()) }

  /// The examples at `indices`, in that order (named inputs and labels too, when present).
  public func subset(_ indices: [Int], name: String? = nil) -> Dataset {
    var result = self
    result.name = name ?? self.name
    result.inputs = Self.rows(indices, of: inputs)
    result.namedInputs = namedInputs.mapValues { Self.rows(indices, of: $0) }
    result.labels = isLabelled ? indices.map { labels[$0] } : []
    result.sequenceLabels = sequenceLabels.map { all in indices.map { all[$0] } }
    result.nextTokens = nextTokens.map { Self.rows(indices, of: $0) }
    return result
  }

  /// Examples `range`, in order.
  public func slice(_ range: Range<Int>) -> Dataset { subset(Array(range)) }

  private static func rows(_ indices: [Int], of tensor: Tensor<Float>) -> Tensor<Float> {
    let sampleShape = Array(tensor.shape.dropFirst())
    let per = sampleShape.reduce(1, *)
    return tensor.withUnsafeBufferPointer { src in
      Tensor<Float>(shape: [indices.count] + sampleShape) { dst in
        for (row, index) in indices.enumerated() {
          (dst.baseAddress! + row * per).update(from: src.baseAddress! + index * per, count: per)
        }
      }
    }
  }
}

/// A dataset's fixed train and test parts.
public struct DatasetSplit: Sendable {
  public var train: Dataset
  public var test: Dataset
  public init(train: Dataset, test: Dataset) {
    self.train = train
    self.test = test
  }
}
