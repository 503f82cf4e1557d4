import Foundation
import LatheTensor

/// What a step can use besides the model: the data, other models, progress and cancellation,
/// and results earlier steps left for later ones.
public final class StepContext: @unchecked Sendable {
  /// The data this step trains and is measured on. A step that changes the task (transfer
  /// to other classes) replaces it, for itself and the steps after it.
  public var data: DatasetSplit
  /// Opens another model by sample name or path (teachers, sources for transfer); "input"
  /// names the pipeline's input model.
  public let loadModel: (String) throws -> Model
  private let progressHandler: (StepProgress) -> Void
  private let cancelled: () -> Bool
  /// What earlier steps left for this one and the steps after it.
  public var state: PipelineState
  /// What this step finds besides the standard metrics (e.g. a baseline's accuracy).
  public var findings = StepFindings()
  /// Where the pipeline writes its files (reports such as a sensitivity table go here too).
  public var outputDirectory: URL?
  /// The pipeline's whole dataset, before any step narrowed it to some classes.
  public var fullData: DatasetSplit?

  func loadFullData() throws -> DatasetSplit { fullData ?? data }

  public init(
    data: DatasetSplit, loadModel: @escaping (String) throws -> Model,
    progress: @escaping (StepProgress) -> Void = { _ in }, isCancelled: @escaping () -> Bool = { false },
    state: PipelineState = PipelineState()
  ) {
    self.data = data
    self.state = state
    self.loadModel = loadModel
    self.progressHandler = progress
    self.cancelled = isCancelled
  }

  public var isCancelled: Bool { cancelled() }

  public func report(_ fraction: Double, _ message: String, training: TrainingProgress? = nil) {
    progressHandler(StepProgress(fraction: min(max(fraction, 0), 1), message: message, training: training))
  }

  public func checkCancellation() throws {
    if cancelled() { throw StepCancelled() }
  }

  /// Trains `model` in place with progress mapped into [from, to] of the step, honouring cancel.
  public func train(
    _ model: Model, on data: Dataset, _ configuration: TrainingConfiguration, from: Double = 0, to: Double = 1,
    label: String = "fine-tuning", loss: Trainer.LossFunction? = nil, afterStep: (() -> Void)? = nil,
    configure: ((inout Trainer) -> Void)? = nil
  ) throws -> TrainingReport {
    var trainer = Trainer(configuration, loss: loss)
    // Shared weights stay on their codebook whichever step trains them (what the file stores).
    let shared = model.namedParameters.map(\.parameter).filter { $0.codebook != nil }
    trainer.afterStep =
      shared.isEmpty
      ? afterStep
      : {
        shared.forEach(WeightSharing.reproject)
        afterStep?()
      }
    configure?(&trainer)
    let report = trainer.train(
      model.logitGraph, on: data,
      progress: { p in
        let done = Double((p.epoch - 1) * p.batches + p.batch) / Double(max(p.epochs * p.batches, 1))
        self.report(from + (to - from) * done, "\(label): epoch \(p.epoch)/\(p.epochs)", training: p)
      }, shouldContinue: { !self.cancelled() })
    if report.cancelled { throw StepCancelled() }
    return report
  }
}
