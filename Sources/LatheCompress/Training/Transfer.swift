import LatheTensor

/// Transfer learning: keep what a trained model learned (frozen layers), give it a new head for
/// new classes, and fine-tune on a few labelled examples; compared with the same architecture
/// trained from scratch on the same few examples.
public struct Transfer: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "transfer",
    summary: "New head for new classes, frozen features, fine-tuned on few labels; vs training from scratch.",
    parameters: [
      ParameterDescriptor("target_classes", .list, default: nil, help: "classes of the new task (from the dataset)"),
      ParameterDescriptor(
        "labels_per_class", .int(1...100_000), default: .int(10), help: "labelled examples per class"),
      ParameterDescriptor(
        "freeze", .list, default: nil, help: "layers kept fixed (default: every layer but the new head)"),
      ParameterDescriptor(
        "compare_scratch", .bool, default: .bool(true),
        help: "also train the architecture from scratch on the same labels"),
    ] + TrainingSettings.descriptors(epochs: 30, learningRate: 0.01), needsTrainableModel: true)

  public let config: TransferConfig

  public init(_ config: TransferConfig) { self.config = config }

  /// `model` with its last Linear layer replaced by a fresh one with `classes` outputs.
  static func replacingHead(of model: Model, classes: Int, seed: UInt64) throws -> Model {
    guard let head = model.nodes.last(where: { $0.layer is Linear }), let linear = head.layer as? Linear else {
      throw StepFailure("the model has no fully connected head to replace")
    }
    let result = model
    var g = SeededGenerator(seed: seed &+ 1)
    result.replaceLayer(named: head.name, with: Linear(inputs: linear.inputs, outputs: classes, generator: &g))
    result.classCount = classes
    return result
  }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let c = config
    // The full dataset's classes: the current data may already be a subset (from `train`).
    let classes = try c.targetClasses.resolve(below: 256)
    let full = try context.loadFullData()
    let seed = c.training.configuration.seed
    let train = full.train.restricted(to: classes).fewShot(perClass: c.labelsPerClass, seed: seed)
    let test = full.test.restricted(to: classes)
    guard train.count > 0 else { throw StepFailure("no training examples of classes \(classes)") }
    context.data = DatasetSplit(train: train, test: test)
    let result = try Self.replacingHead(of: model, classes: classes.count, seed: seed)
    let head = result.nodes.last { $0.layer is Linear }!.name
    let frozen = c.freeze ?? result.nodes.map(\.name).filter { $0 != head }
    for node in result.nodes where frozen.contains(node.name) {
      for (_, parameter) in node.layer.parameters { parameter.isFrozen = true }
    }
    let configuration = c.training.configuration
    _ = try context.train(result, on: train, configuration, to: c.compareScratch ? 0.5 : 1, label: "transfer")
    if c.compareScratch {
      let scratch = result.reinitialized(seed: seed &+ 2)
      for (_, parameter) in scratch.namedParameters { parameter.isFrozen = false }
      _ = try context.train(scratch, on: train, configuration, from: 0.5, label: "from scratch")
      context.findings.scratchAccuracy = Double(Evaluator.accuracy(of: scratch, on: test))
    }
    context.findings.labelledExamples = train.count
    for node in result.nodes {
      for (_, parameter) in node.layer.parameters { parameter.isFrozen = false }
    }
    return result
  }
}

/// The new task `transfer` learns and what it keeps of the old one.
public struct TransferConfig: TechniqueConfig {
  /// Classes of the new task, from the pipeline's full dataset.
  public var targetClasses: ClassSelection
  /// Labelled examples per class it fine-tunes on.
  public var labelsPerClass: Int
  /// Layers kept fixed; nil freezes every layer but the new head.
  public var freeze: [String]?
  /// Also train the architecture from scratch on the same labels (reported as scratch_accuracy).
  public var compareScratch: Bool
  /// The teacher settings are not used.
  public var training: TrainingSettings

  public init(
    targetClasses: ClassSelection, labelsPerClass: Int = 10, freeze: [String]? = nil, compareScratch: Bool = true,
    training: TrainingSettings = .defaults(epochs: 30, learningRate: 0.01)
  ) {
    self.targetClasses = targetClasses
    self.labelsPerClass = labelsPerClass
    self.freeze = freeze
    self.compareScratch = compareScratch
    self.training = training
  }

  public init(_ p: StepParameters) throws {
    guard p.isSet("target_classes") else { throw p.error("target_classes", "required: the classes of the new task") }
    self.init(
      targetClasses: ClassSelection(p, "target_classes"), labelsPerClass: p.int("labels_per_class"),
      freeze: p.isSet("freeze") ? p.strings("freeze") : nil, compareScratch: p.bool("compare_scratch"),
      training: TrainingSettings(p))
  }
}
