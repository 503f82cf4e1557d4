import LatheTensor

/// Fine-tunes the model as it is (masks and shared weights stay in force).
public struct FineTune: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "fine-tune", summary: "Train the current model further; pruned weights stay zero.",
    parameters: TrainingSettings.descriptors(epochs: 3, learningRate: 0.01), needsTrainableModel: true)

  public let config: FineTuneConfig

  public init(_ config: FineTuneConfig) { self.config = config }

  /// With a teacher the step learns the teacher's outputs, so a set without labels will do.
  public var needsLabels: Bool { config.training.needsLabels }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    try config.training.train(model, on: context.data.train, context: context)
    return model
  }
}

public struct FineTuneConfig: TechniqueConfig, Equatable {
  public var training: TrainingSettings

  public init(training: TrainingSettings) { self.training = training }

  public init(_ p: StepParameters) throws { training = TrainingSettings(p) }
}
