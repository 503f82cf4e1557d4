import Foundation
import LatheTensor

/// One-shot pruning: unstructured (magnitude, masks) or structured (whole neurons / filters
/// physically removed), optionally followed by fine-tuning.
public struct Prune: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "prune",
    summary: "Remove weights: by magnitude (masks, smaller file) or whole neurons/filters (smaller and faster).",
    parameters: [
      ParameterDescriptor(
        "method", .choice(["magnitude", "structured"]), default: .string("magnitude"),
        help: "magnitude zeroes single weights; structured removes whole neurons and filters"),
      ParameterDescriptor(
        "scope", .choice(["layer", "global"]), default: .string("layer"),
        help: "layer: each layer reaches the sparsity; global: rank all weights together"),
      ParameterDescriptor(
        "sparsity", .perLayerFloat(0...0.999), default: .float(0.5),
        help: "fraction removed; one number or {layer: fraction}"),
      ParameterDescriptor(
        "use_sensitivity", .bool, default: .bool(false), help: "take per-layer targets from an earlier sensitivity step"
      ),
      ParameterDescriptor(
        "criterion", .choice(["l1", "l2"]), default: .string("l1"), help: "structured: norm ranking"),
    ] + TrainingSettings.descriptors(epochs: 0, learningRate: 0.01), needsTrainableModel: true)

  let parameters: StepParameters

  public init(_ p: StepParameters) throws { parameters = p }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let p = parameters
    let result = model.copy()
    let weights = MagnitudePruning.prunableWeights(of: result)
    var sparsity = p.perLayerDouble("sparsity")
    if p.bool("use_sensitivity") {
      guard let targets = context.sensitivityTargets else {
        throw StepFailure("\(p.step.name): use_sensitivity needs an earlier sensitivity step")
      }
      sparsity = .each(targets)
    }
    try p.checkLayers("sparsity", sparsity, in: result, allowed: weights.map(\.layer))
    context.report(0, "pruning")
    if p.string("method") == "structured" {
      try StructuredPruning.prune(
        result, sparsity: { sparsity?.value(for: $0) }, criterion: p.string("criterion") == "l2" ? .l2 : .l1)
    } else if p.string("scope") == "global", case .all(let target) = sparsity {
      MagnitudePruning.pruneGlobally(weights, sparsity: target)
    } else {
      MagnitudePruning.pruneLayers(weights) { sparsity?.value(for: $0) }
    }
    if p.int("epochs") > 0 {
      _ = try context.train(
        result, on: context.data.train, TrainingSettings.configuration(p), from: 0.05,
        loss: try TrainingSettings.loss(p, context: context))
    }
    return result
  }
}

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

  let parameters: StepParameters

  public init(_ p: StepParameters) throws {
    parameters = p
    guard p.int("epochs") >= p.int("pruning_epochs") else {
      throw p.error("epochs", "must be at least pruning_epochs (\(p.int("pruning_epochs")))")
    }
  }

  /// Sparsity after pruning event `t` of `n` (t = 1...n), for a final sparsity `final`.
  public static func scheduledSparsity(event t: Int, of n: Int, initial: Double, final: Double) -> Double {
    let progress = min(max(Double(t) / Double(n), 0), 1)
    return final + (initial - final) * pow(1 - progress, 3)
  }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let p = parameters
    let result = model.copy()
    let weights = MagnitudePruning.prunableWeights(of: result)
    let finals = p.perLayerDouble("final_sparsity")
    try p.checkLayers("final_sparsity", finals, in: result, allowed: weights.map(\.layer))
    var configuration = TrainingSettings.configuration(p)
    let batches = (context.data.train.count + configuration.batchSize - 1) / configuration.batchSize
    let eventsPerEpoch = min(p.int("events_per_epoch"), batches)
    let totalEvents = p.int("pruning_epochs") * eventsPerEpoch
    let interval = max(batches / eventsPerEpoch, 1)
    var step = 0
    var event = 0
    let initial = p.double("initial_sparsity")
    func prune() {
      event += 1
      if p.string("scope") == "global", case .all(let final) = finals {
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
    configuration.epochs = p.int("epochs")
    _ = try context.train(
      result, on: context.data.train, configuration, label: "gradual pruning",
      loss: try TrainingSettings.loss(p, context: context),
      afterStep: {
        step += 1
        if event < totalEvents && step % interval == 0 { prune() }
      })
    while event < totalEvents { prune() }
    return result
  }
}
