/// Everything that decides a training run; the same configuration and seed give the same model.
public struct TrainingConfiguration: Sendable, Equatable {
  public var epochs: Int
  public var batchSize: Int
  public var learningRate: Float
  public var optimizer: OptimizerKind
  public var schedule: LearningRateSchedule
  public var labelSmoothing: Float
  /// Shuffling, dropout and the validation split all draw from this seed.
  public var seed: UInt64
  /// Fraction of the training set held out to choose the best epoch; 0 disables early stopping.
  public var validationFraction: Float
  /// Epochs without a better validation accuracy before training stops.
  public var patience: Int

  public init(
    epochs: Int = 10, batchSize: Int = 32, learningRate: Float = 0.01, optimizer: OptimizerKind = .sgd(),
    schedule: LearningRateSchedule = .constant, labelSmoothing: Float = 0, seed: UInt64 = 0,
    validationFraction: Float = 0, patience: Int = 5
  ) {
    self.epochs = epochs
    self.batchSize = batchSize
    self.learningRate = learningRate
    self.optimizer = optimizer
    self.schedule = schedule
    self.labelSmoothing = labelSmoothing
    self.seed = seed
    self.validationFraction = validationFraction
    self.patience = patience
  }
}

/// Where a training run is, reported after every batch.
public struct TrainingProgress: Sendable {
  public var epoch: Int
  public var epochs: Int
  public var batch: Int
  public var batches: Int
  /// Running mean loss and accuracy over the epoch so far.
  public var loss: Float
  public var accuracy: Float
  public var learningRate: Float
  public var elapsedSeconds: Double
}

/// What one finished epoch measured.
public struct EpochRecord: Sendable, Codable {
  public var epoch: Int
  public var loss: Float
  public var trainAccuracy: Float
  public var validationAccuracy: Float?
  public var seconds: Double
}

/// The outcome of a training run.
public struct TrainingReport: Sendable {
  public var epochs: [EpochRecord]
  public var bestEpoch: Int
  public var stoppedEarly: Bool
  public var cancelled: Bool
}
