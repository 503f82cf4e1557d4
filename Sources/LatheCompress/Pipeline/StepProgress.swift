import LatheTensor

/// Thrown when the user cancels a running step; the model stays as it was before the step.
public struct StepCancelled: Error, CustomStringConvertible {
  public init() {}
  public var description: String { "cancelled" }
}

/// A step that cannot run on this model, with the reason.
public struct StepFailure: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

/// Where a running step is.
public struct StepProgress: Sendable {
  /// 0...1 over the whole step.
  public var fraction: Double
  public var message: String
  /// Set while the step trains: the live loss and accuracy.
  public var training: TrainingProgress?

  public init(fraction: Double, message: String, training: TrainingProgress? = nil) {
    self.fraction = fraction
    self.message = message
    self.training = training
  }
}
