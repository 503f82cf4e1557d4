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
      ParameterDescriptor(
        "target_macs", .float(0.01...1), default: nil,
        help: "structured: keep this fraction of the MACs, one channel fraction for every prunable group (not sparsity)"
      ),
    ] + TrainingSettings.descriptors(epochs: 0, learningRate: 0.01), needsTrainableModel: true)

  public let config: PruneConfig

  public init(_ config: PruneConfig) { self.config = config }

  public func apply(to model: Model, context: StepContext) throws -> Model {
    let c = config
    let weights = MagnitudePruning.prunableWeights(of: model)
    var sparsity = c.sparsity
    if c.useSensitivity {
      guard let targets = context.state.sensitivityTargets else {
        throw StepFailure("\(c.source.stepName): use_sensitivity needs an earlier sensitivity step")
      }
      sparsity = .each(targets.sparsityByLayer)
    }
    sparsity = try c.source.resolveLayers("sparsity", sparsity, allowed: weights.map(\.layer))
    context.report(0, "pruning")
    switch c.method {
    case .structured:
      let summary =
        if let target = c.targetMACs {
          try StructuredPruning.prune(model, targetMACs: target, criterion: c.criterion)
        } else {
          try StructuredPruning.prune(model, sparsity: { sparsity?.value(for: $0) }, criterion: c.criterion)
        }
      context.findings.macRatio = summary.macRatio
      context.findings.channelGroupsPruned = summary.groupsPruned
      context.findings.channelFraction = summary.fraction
    case .magnitude:
      if c.scope == .global, case .all(let target) = sparsity {
        MagnitudePruning.pruneGlobally(weights, sparsity: target)
      } else {
        MagnitudePruning.pruneLayers(weights) { sparsity?.value(for: $0) }
      }
    }
    if c.training.configuration.epochs > 0 {
      context.report(0.05, "fine-tuning\(c.training.teacher.map { " from \($0)" } ?? "")")
      try c.training.train(model, on: context.data.train, context: context, from: 0.05)
    }
    return model
  }

  /// Labels only when it fine-tunes without a teacher: pruning alone, and distillation, need none.
  public var needsLabels: Bool { config.training.needsLabels }
}

/// What `prune` removes and how it ranks weights.
public struct PruneConfig: TechniqueConfig {
  public enum Method: String, Sendable, CaseIterable {
    /// Zero single weights by magnitude (masks): a smaller file.
    case magnitude
    /// Remove whole neurons and filters: a smaller and faster model.
    case structured
  }

  /// How magnitude pruning ranks weights (structured pruning is always per layer).
  public enum Scope: String, Sendable, CaseIterable {
    /// Each layer reaches its own sparsity.
    case layer
    /// One sparsity over all layers' weights ranked together.
    case global
  }

  public var method: Method
  public var scope: Scope
  /// Fraction removed, for every layer or by layer (layers a map leaves out stay as they are).
  public var sparsity: PerLayer<Double>?
  /// Take per-layer targets from an earlier sensitivity step instead of `sparsity`.
  public var useSensitivity: Bool
  public var criterion: StructuredPruning.Criterion
  /// Structured: the fraction of the model's MACs to keep (every prunable channel group loses
  /// the same fraction of its channels); replaces `sparsity`.
  public var targetMACs: Double?
  /// Fine-tuning after pruning (none when epochs is 0).
  public var training: TrainingSettings
  public var source: SettingSource

  public init(
    method: Method = .magnitude, scope: Scope = .layer, sparsity: PerLayer<Double>? = .all(0.5),
    useSensitivity: Bool = false, criterion: StructuredPruning.Criterion = .l1, targetMACs: Double? = nil,
    training: TrainingSettings = .defaults(epochs: 0, learningRate: 0.01),
    source: SettingSource = .code("prune")
  ) {
    self.method = method
    self.scope = scope
    self.sparsity = sparsity
    self.useSensitivity = useSensitivity
    self.criterion = criterion
    self.targetMACs = targetMACs
    self.training = training
    self.source = source
  }

  public init(_ p: StepParameters) throws {
    self.init(
      method: Method(rawValue: p.string("method")) ?? .magnitude, scope: Scope(rawValue: p.string("scope")) ?? .layer,
      sparsity: p.perLayerDouble("sparsity"), useSensitivity: p.bool("use_sensitivity"),
      criterion: p.string("criterion") == "l2" ? .l2 : .l1, targetMACs: p.optionalDouble("target_macs"),
      training: TrainingSettings(p), source: p.source)
    if targetMACs != nil && method != .structured {
      throw p.error("target_macs", "target_macs needs method: structured")
    }
    if targetMACs != nil && (p.isSet("sparsity") || useSensitivity) {
      throw p.error("target_macs", "target_macs chooses the sparsity; leave out sparsity and use_sensitivity")
    }
  }
}
