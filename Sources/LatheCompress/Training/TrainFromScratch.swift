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

  public let config: TrainFromScratchConfig

  public init(_ config: TrainFromScratchConfig) { self.config = config }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let c = config
    let seed = c.training.configuration.seed
    var result = model.reinitialized(seed: seed)
    if let classes = c.classes {
      let chosen = try classes.resolve(below: context.data.train.classCount)
      context.data = DatasetSplit(
        train: context.data.train.restricted(to: chosen), test: context.data.test.restricted(to: chosen))
      result = try Transfer.replacingHead(of: result, classes: chosen.count, seed: seed)
    }
    _ = try context.train(result, on: context.data.train, c.training.configuration, label: "training")
    return result
  }
}

/// What `train` trains on and how.
public struct TrainFromScratchConfig: TechniqueConfig {
  /// Train and measure on these classes only (relabelled in this order); nil keeps every class.
  public var classes: ClassSelection?
  /// The teacher settings are not used: training from scratch learns from the labels.
  public var training: TrainingSettings

  public init(classes: ClassSelection? = nil, training: TrainingSettings = .defaults(epochs: 10, learningRate: 0.05)) {
    self.classes = classes
    self.training = training
  }

  public init(_ p: StepParameters) throws {
    self.init(classes: p.isSet("classes") ? ClassSelection(p, "classes") : nil, training: TrainingSettings(p))
  }
}
