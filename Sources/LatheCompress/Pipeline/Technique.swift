import Foundation
import LatheTensor

/// One setting a technique accepts, with its default and limits: what the pipeline file
/// validates against and what the workbench's step editor shows as a form field.
public struct ParameterDescriptor: Sendable {
  public enum Kind: Sendable {
    case int(ClosedRange<Int>)
    case float(ClosedRange<Double>)
    /// A float for every layer, or a map of layer name to float.
    case perLayerFloat(ClosedRange<Double>)
    /// An int for every layer, or a map of layer name to int.
    case perLayerInt(ClosedRange<Int>)
    case choice([String])
    case bool
    case text
    case list
  }

  public var key: String
  public var kind: Kind
  public var defaultValue: ParameterValue?
  public var help: String

  public init(_ key: String, _ kind: Kind, default defaultValue: ParameterValue?, help: String) {
    self.key = key
    self.kind = kind
    self.defaultValue = defaultValue
    self.help = help
  }
}

/// What a technique is called, what it does, and the settings it takes.
public struct TechniqueDescriptor: Sendable {
  public var name: String
  public var summary: String
  public var parameters: [ParameterDescriptor]
  /// Whether the technique trains, so a model that can no longer train (int8) must come after it.
  public var needsTrainableModel: Bool

  public init(name: String, summary: String, parameters: [ParameterDescriptor], needsTrainableModel: Bool = false) {
    self.name = name
    self.summary = summary
    self.parameters = parameters
    self.needsTrainableModel = needsTrainableModel
  }
}

/// A compression technique configured for one step.
public protocol Technique: Sendable {
  static var descriptor: TechniqueDescriptor { get }
  init(_ parameters: StepParameters) throws
  /// Returns the model after this step. Must not change `model`, which the runner keeps as
  /// the snapshot to step back to.
  func apply(to model: Model, context: StepContext) throws -> Model
}

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
  /// Per-layer sparsity targets chosen by a sensitivity analysis, for a later prune step.
  public var sensitivityTargets: [String: Double]?
  /// Findings a step reports besides the standard metrics (e.g. a baseline's accuracy).
  public var extra: [String: Double] = [:]
  /// Where the pipeline writes its files (reports such as a sensitivity table go here too).
  public var outputDirectory: URL?
  /// The pipeline's whole dataset, before any step narrowed it to some classes.
  public var fullData: DatasetSplit?

  func loadFullData() throws -> DatasetSplit { fullData ?? data }

  public init(
    data: DatasetSplit, loadModel: @escaping (String) throws -> Model,
    progress: @escaping (StepProgress) -> Void = { _ in }, isCancelled: @escaping () -> Bool = { false }
  ) {
    self.data = data
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
      model, on: data,
      progress: { p in
        let done = Double((p.epoch - 1) * p.batches + p.batch) / Double(max(p.epochs * p.batches, 1))
        self.report(from + (to - from) * done, "\(label): epoch \(p.epoch)/\(p.epochs)", training: p)
      }, shouldContinue: { !self.cancelled() })
    if report.cancelled { throw StepCancelled() }
    return report
  }
}
