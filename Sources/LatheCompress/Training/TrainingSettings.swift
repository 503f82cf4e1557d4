import LatheTensor

/// The training settings every training step shares: how to train, and optionally a teacher to
/// distil from while training.
public struct TrainingSettings: Sendable, Equatable {
  public var configuration: TrainingConfiguration
  /// The model to distil from ("input" = the pipeline's input model, or a sample or path);
  /// nil trains on the labels alone.
  public var teacher: String?
  /// Distillation temperature T.
  public var temperature: Float
  /// Weight of the teacher's soft targets against the labels.
  public var alpha: Float

  public init(
    _ configuration: TrainingConfiguration, teacher: String? = nil, temperature: Float = 4, alpha: Float = 0.7
  ) {
    self.configuration = configuration
    self.teacher = teacher
    self.temperature = temperature
    self.alpha = alpha
  }

  /// What a pipeline step gets when it sets none of the training keys (batches of 32, SGD,
  /// cosine schedule, seed 0), with the technique's own epochs and learning rate.
  public static func defaults(epochs: Int, learningRate: Float) -> TrainingSettings {
    TrainingSettings(
      TrainingConfiguration(
        epochs: epochs, batchSize: 32, learningRate: learningRate, optimizer: .sgd(), schedule: .cosine(minimum: 0),
        seed: 0))
  }

  /// Reads the settings `descriptors` declares.
  public init(_ p: StepParameters) {
    let decay = p.float("weight_decay")
    self.init(
      TrainingConfiguration(
        epochs: p.int("epochs"), batchSize: p.int("batch_size"), learningRate: p.float("lr"),
        optimizer: OptimizerKind.named(p.string("optimizer"), weightDecay: decay) ?? .sgd(),
        schedule: LearningRateSchedule.named(p.string("schedule")) ?? .constant, seed: UInt64(p.int("seed"))),
      teacher: p.optionalString("teacher"), temperature: p.float("temperature"), alpha: p.float("alpha"))
  }

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

  /// Whether training with these settings reads labels: it trains, and on no teacher's outputs.
  /// With a teacher and a set without labels, the loss is the teacher's soft targets alone.
  public var needsLabels: Bool { configuration.epochs > 0 && teacher == nil }

  /// The loss for training: cross-entropy, or distillation from `teacher` when one is named.
  func loss(context: StepContext) throws -> Trainer.LossFunction? {
    guard let teacher else { return nil }
    return Distillation.loss(
      teacher: try context.loadModel(teacher).logitGraph, temperature: temperature, alpha: alpha)
  }

  /// Trains `model` in place with these settings, over [from, to] of the step's progress.
  func train(
    _ model: Model, on data: Dataset, context: StepContext, from: Double = 0, to: Double = 1,
    label: String = "fine-tuning", afterStep: (() -> Void)? = nil
  ) throws {
    _ = try context.train(
      model, on: data, configuration, from: from, to: to, label: label, loss: try loss(context: context),
      afterStep: afterStep)
  }
}
