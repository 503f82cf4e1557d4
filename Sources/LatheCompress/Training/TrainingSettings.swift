import LatheTensor

/// The fine-tuning settings every training step shares, with step-specific defaults.
enum TrainingSettings {
  static func descriptors(epochs: Int, learningRate: Double, optimizer: String = "sgd") -> [ParameterDescriptor] {
    [
      ParameterDescriptor("epochs", .int(0...1000), default: .int(epochs), help: "passes over the training set"),
      ParameterDescriptor("lr", .float(1e-7...10), default: .float(learningRate), help: "base learning rate"),
      ParameterDescriptor(
        "optimizer", .choice(["sgd", "nesterov", "adam", "adamw"]), default: .string(optimizer), help: "update rule"),
      ParameterDescriptor("batch_size", .int(1...65536), default: .int(32), help: "examples per batch"),
      ParameterDescriptor(
        "schedule", .choice(["constant", "step", "cosine"]), default: .string("cosine"), help: "learning-rate schedule"),
      ParameterDescriptor("weight_decay", .float(0...1), default: .float(0), help: "L2 (decoupled for adamw)"),
      ParameterDescriptor("seed", .int(0...Int(Int32.max)), default: .int(0), help: "shuffling and dropout seed"),
      ParameterDescriptor(
        "teacher", .text, default: nil,
        help: "distil from this model while training (\"input\" = the pipeline's input model)"),
      ParameterDescriptor("temperature", .float(0.1...100), default: .float(4), help: "distillation temperature T"),
      ParameterDescriptor(
        "alpha", .float(0...1), default: .float(0.7), help: "weight of the teacher's soft targets vs the labels"),
    ]
  }

  /// The loss for training: cross-entropy, or distillation from `teacher` when one is named.
  static func loss(_ p: StepParameters, context: StepContext) throws -> Trainer.LossFunction? {
    guard let name = p.optionalString("teacher") else { return nil }
    let teacher = try context.loadModel(name)
    return Distillation.loss(teacher: teacher, temperature: p.float("temperature"), alpha: p.float("alpha"))
  }

  static func configuration(_ p: StepParameters) -> TrainingConfiguration {
    let decay = p.float("weight_decay")
    return TrainingConfiguration(
      epochs: p.int("epochs"), batchSize: p.int("batch_size"), learningRate: p.float("lr"),
      optimizer: OptimizerKind.named(p.string("optimizer"), weightDecay: decay) ?? .sgd(),
      schedule: LearningRateSchedule.named(p.string("schedule")) ?? .constant, seed: UInt64(p.int("seed")))
  }
}

/// Fine-tunes the model as it is (masks and shared weights stay in force).
public struct FineTune: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "fine-tune", summary: "Train the current model further; pruned weights stay zero.",
    parameters: TrainingSettings.descriptors(epochs: 3, learningRate: 0.01), needsTrainableModel: true)

  let configuration: TrainingConfiguration
  let parameters: StepParameters

  public init(_ p: StepParameters) throws {
    configuration = TrainingSettings.configuration(p)
    parameters = p
  }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let result = model.copy()
    _ = try context.train(
      result, on: context.data.train, configuration, loss: try TrainingSettings.loss(parameters, context: context))
    return result
  }
}
