import Foundation
import LatheTensor

/// Gradual magnitude pruning (Zhu & Gupta 2017): sparsity rises on the cubic schedule
/// s_t = s_f + (s_i − s_f)(1 − (t − t0)/(n·Δt))³ while the model fine-tunes, so it can recover
/// between pruning events.
public struct GradualPrune: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "gradual-prune", summary: "Prune a little at a time while fine-tuning, on Zhu & Gupta's cubic schedule.",
    parameters: [
      ParameterDescriptor(
        "final_sparsity", .perLayerFloat(0...0.999), default: .float(0.9),
        help: "sparsity at the end; number or per layer"),
      ParameterDescriptor(
        "initial_sparsity", .float(0...0.999), default: .float(0), help: "sparsity of the first event"),
      ParameterDescriptor(
        "pruning_epochs", .int(1...1000), default: .int(6), help: "epochs over which sparsity rises (n·Δt)"),
      ParameterDescriptor(
        "events_per_epoch", .int(1...1000), default: .int(4), help: "pruning events per epoch (1/Δt)"),
      ParameterDescriptor(
        "scope", .choice(["layer", "global"]), default: .string("layer"),
        help: "each layer to its target, or ranked together"),
    ] + TrainingSettings.descriptors(epochs: 10, learningRate: 0.01), needsTrainableModel: true)

  public let config: GradualPruneConfig

  public init(_ config: GradualPruneConfig) { self.config = config }

  /// With a teacher the step learns the teacher's outputs, so a set without labels will do.
  public var needsLabels: Bool { config.training.needsLabels }

  /// Sparsity after pruning event `t` of `n` (t = 1...n), for a final sparsity `final`.
  public static func scheduledSparsity(event t: Int, of n: Int, initial: Double, final: Double) -> Double {
    let progress = min(max(Double(t) / Double(n), 0), 1)
    return final + (initial - final) * pow(1 - progress, 3)
  }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let c = config
    let weights = MagnitudePruning.prunableWeights(of: model)
    let finals = try c.source.resolveLayers("final_sparsity", c.finalSparsity, allowed: weights.map(\.layer))
    let batchSize = c.training.configuration.batchSize
    let batches = (context.data.train.count + batchSize - 1) / batchSize
    let eventsPerEpoch = min(c.eventsPerEpoch, batches)
    let totalEvents = c.pruningEpochs * eventsPerEpoch
    let interval = max(batches / eventsPerEpoch, 1)
    var step = 0
    var event = 0
    let initial = c.initialSparsity
    func prune() {
      event += 1
      if c.scope == .global, case .all(let final) = finals {
        MagnitudePruning.pruneGlobally(
          weights, sparsity: Self.scheduledSparsity(event: event, of: totalEvents, initial: initial, final: final))
      } else {
        MagnitudePruning.pruneLayers(weights) { layer in
          finals?.value(for: layer).map {
            Self.scheduledSparsity(event: event, of: totalEvents, initial: initial, final: $0)
          }
        }
      }
    }
    prune()
    try c.training.train(
      model, on: context.data.train, context: context, label: "gradual pruning",
      afterStep: {
        step += 1
        if event < totalEvents && step % interval == 0 { prune() }
      })
    while event < totalEvents { prune() }
    return model
  }
}

/// The schedule `gradual-prune` raises sparsity on, and the fine-tuning it runs meanwhile.
public struct GradualPruneConfig: TechniqueConfig {
  /// Sparsity at the end, for every layer or by layer.
  public var finalSparsity: PerLayer<Double>?
  /// Sparsity of the first pruning event.
  public var initialSparsity: Double
  /// Epochs over which sparsity rises (n·Δt); the training runs at least this long.
  public var pruningEpochs: Int
  /// Pruning events per epoch (1/Δt), at most one per batch.
  public var eventsPerEpoch: Int
  public var scope: PruneConfig.Scope
  public var training: TrainingSettings
  public var source: SettingSource

  /// Throws when training is shorter than the pruning schedule.
  public init(
    finalSparsity: PerLayer<Double>? = .all(0.9), initialSparsity: Double = 0, pruningEpochs: Int = 6,
    eventsPerEpoch: Int = 4, scope: PruneConfig.Scope = .layer,
    training: TrainingSettings = .defaults(epochs: 10, learningRate: 0.01),
    source: SettingSource = .code("gradual-prune")
  ) throws {
    guard training.configuration.epochs >= pruningEpochs else {
      throw source.error("epochs", "must be at least pruning_epochs (\(pruningEpochs))")
    }
    self.finalSparsity = finalSparsity
    self.initialSparsity = initialSparsity
    self.pruningEpochs = pruningEpochs
    self.eventsPerEpoch = eventsPerEpoch
    self.scope = scope
    self.training = training
    self.source = source
  }

  public init(_ p: StepParameters) throws {
    try self.init(
      finalSparsity: p.perLayerDouble("final_sparsity"), initialSparsity: p.double("initial_sparsity"),
      pruningEpochs: p.int("pruning_epochs"), eventsPerEpoch: p.int("events_per_epoch"),
      scope: PruneConfig.Scope(rawValue: p.string("scope")) ?? .layer, training: TrainingSettings(p), source: p.source)
  }
}
