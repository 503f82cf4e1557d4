import LatheTensor

/// A technique's settings as typed values, decoded once from a pipeline step (checking them
/// with errors naming the file, line and key) or built in code.
public protocol TechniqueConfig: Sendable {
  init(_ parameters: StepParameters) throws
}

/// A compression technique holding its configuration for one step.
///
/// `apply` may change the model it is given and return it (or another model): the runner hands
/// it a copy and keeps the original as the snapshot to step back to. Library callers who want
/// their model left alone call `applied(to:context:)`, which does the same.
public protocol Technique: Sendable {
  associatedtype Config: TechniqueConfig
  static var descriptor: TechniqueDescriptor { get }
  var config: Config { get }
  init(_ config: Config)
  init(_ parameters: StepParameters) throws
  /// Returns the model after this step; may change `model` on the way.
  func apply(to model: Model, context: StepContext) throws -> Model
  /// Whether the step reads the train split's labels (default: when it trains); the runner
  /// refuses a set without labels for such a step before it starts.
  var needsLabels: Bool { get }
}

extension Technique {
  public init(_ parameters: StepParameters) throws { self.init(try Config(parameters)) }

  public var needsLabels: Bool { Self.descriptor.needsTrainableModel }

  /// The model after this step, leaving `model` as it was: applies the technique to a copy.
  public func applied(to model: Model, context: StepContext) throws -> Model {
    try apply(to: model.copy(), context: context)
  }
}
