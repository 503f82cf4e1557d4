import LatheTensor

/// Trains the current architecture from scratch, optionally on a subset of the classes (to
/// make a source model for transfer, or a baseline).
public struct TrainFromScratch: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "train",
    summary: "Re-initialise the current architecture and train it, optionally on some classes only.",
    parameters: [
      ParameterDescriptor("classes", .list, default: nil, help: "train and measure on these classes only (relabelled)")
    ] + TrainingSettings.descriptors(epochs: 10, learningRate: 0.05))

  let parameters: StepParameters

  public init(_ p: StepParameters) throws { parameters = p }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let p = parameters
    var result = model.reinitialized(seed: UInt64(p.int("seed")))
    if p.isSet("classes") {
      let classes = try p.classes("classes", below: context.data.train.classCount)
      context.data = DatasetSplit(
        train: context.data.train.restricted(to: classes), test: context.data.test.restricted(to: classes))
      result = try Transfer.replacingHead(of: result, classes: classes.count, seed: UInt64(p.int("seed")))
    }
    _ = try context.train(result, on: context.data.train, TrainingSettings.configuration(p), label: "training")
    return result
  }
}

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

  let parameters: StepParameters

  public init(_ p: StepParameters) throws {
    parameters = p
    guard p.isSet("target_classes") else { throw p.error("target_classes", "required: the classes of the new task") }
  }

  /// The model with its last Linear layer replaced by a fresh one with `classes` outputs.
  static func replacingHead(of model: Model, classes: Int, seed: UInt64) throws -> Model {
    guard let head = model.nodes.last(where: { $0.layer is Linear }), let linear = head.layer as? Linear else {
      throw StepFailure("the model has no fully connected head to replace")
    }
    let result = model.copy()
    var g = SeededGenerator(seed: seed &+ 1)
    result.replaceLayer(named: head.name, with: Linear(inputs: linear.inputs, outputs: classes, generator: &g))
    result.classCount = classes
    return result
  }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let p = parameters
    // The full dataset's classes: the current data may already be a subset (from `train`).
    let classes = try p.classes("target_classes", below: 256)
    let full = try context.loadFullData()
    let seed = UInt64(p.int("seed"))
    let train = full.train.restricted(to: classes).fewShot(perClass: p.int("labels_per_class"), seed: seed)
    let test = full.test.restricted(to: classes)
    guard train.count > 0 else { throw StepFailure("no training examples of classes \(classes)") }
    context.data = DatasetSplit(train: train, test: test)
    let result = try Self.replacingHead(of: model, classes: classes.count, seed: seed)
    let head = result.nodes.last { $0.layer is Linear }!.name
    let frozen = p.isSet("freeze") ? p.strings("freeze") : result.nodes.map(\.name).filter { $0 != head }
    for node in result.nodes where frozen.contains(node.name) {
      for (_, parameter) in node.layer.parameters { parameter.isFrozen = true }
    }
    let configuration = TrainingSettings.configuration(p)
    let compare = p.bool("compare_scratch")
    _ = try context.train(result, on: train, configuration, to: compare ? 0.5 : 1, label: "transfer")
    if compare {
      let scratch = result.reinitialized(seed: seed &+ 2)
      for (_, parameter) in scratch.namedParameters { parameter.isFrozen = false }
      _ = try context.train(scratch, on: train, configuration, from: 0.5, label: "from scratch")
      context.extra["scratch_accuracy"] = Double(Evaluator.accuracy(of: scratch, on: test))
    }
    context.extra["labelled_examples"] = Double(train.count)
    for node in result.nodes {
      for (_, parameter) in node.layer.parameters { parameter.isFrozen = false }
    }
    return result
  }
}
