import Foundation
import LatheTensor

/// One-shot pruning: single weights by magnitude, by Wanda's |W|·‖X‖ or by SparseGPT's OBS
/// updates (masks), unstructured or N:M; or structured (whole neurons / filters physically
/// removed); optionally followed by fine-tuning.
public struct Prune: Technique {
  public static let descriptor = TechniqueDescriptor(
    name: "prune",
    summary:
      "Remove weights: by magnitude, Wanda or SparseGPT (masks, unstructured or N:M) or whole neurons/filters (smaller and faster).",
    parameters: [
      ParameterDescriptor(
        "method", .choice(PruneConfig.Method.allCases.map(\.rawValue)), default: .string("magnitude"),
        help:
          "magnitude zeroes the smallest weights; wanda and sparsegpt calibrate on the train split's inputs; structured removes whole neurons and filters"
      ),
      ParameterDescriptor(
        "scope", .choice(["layer", "global"]), default: .string("layer"),
        help: "layer: each layer reaches the sparsity; global: rank all weights together"),
      ParameterDescriptor(
        "sparsity", .perLayerFloat(0...0.999), default: .float(0.5),
        help: "fraction removed; one number or {layer: fraction}"),
      ParameterDescriptor(
        "pattern", .text, default: .string("unstructured"),
        help: "unstructured, or N:M (\"2:4\": at most N nonzeros in every M consecutive inputs of a Linear row)"),
      ParameterDescriptor(
        "layers", .list, default: nil,
        help: "layers to prune (default: every Linear and Conv2d for unstructured magnitude, else every Linear)"),
      ParameterDescriptor(
        "calibration_samples", .int(1...100_000), default: .int(128),
        help: "wanda, sparsegpt: training examples whose inputs calibrate each layer"),
      ParameterDescriptor(
        "damp", .float(0.000_001...1), default: .float(0.01),
        help: "sparsegpt: fraction of the input Hessian's mean diagonal added to its diagonal"),
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
    // Wanda, SparseGPT and N:M patterns read a Linear's inputs along its last axis.
    let linearOnly = c.method == .wanda || c.method == .sparsegpt || c.pattern != .unstructured
    let prunable = MagnitudePruning.prunableWeights(of: model).filter { !linearOnly || $0.parameter.shape.count == 2 }
    let candidates = prunable.map(\.layer)
    if let layers = c.layers {
      try c.source.checkChosen(layers, among: candidates, kind: linearOnly ? "Linear layer" : "Linear or Conv2d layer")
    }
    let chosen = c.layers ?? candidates
    let weights = prunable.filter { chosen.contains($0.layer) }
    var sparsity = c.sparsity
    if c.useSensitivity {
      guard let targets = context.state.sensitivityTargets else {
        throw StepFailure("\(c.source.stepName): use_sensitivity needs an earlier sensitivity step")
      }
      sparsity = .each(targets.sparsityByLayer)
    }
    if let implied = c.pattern.impliedSparsity { sparsity = .all(implied) }
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
    case .magnitude where c.pattern == .unstructured:
      if c.scope == .global, case .all(let target) = sparsity {
        MagnitudePruning.pruneGlobally(weights, sparsity: target)
      } else {
        MagnitudePruning.pruneLayers(weights) { sparsity?.value(for: $0) }
      }
    case .magnitude, .wanda, .sparsegpt:
      try checkPattern(weights)
      try OneShotPruning.prune(
        model, layers: weights.filter { sparsity?.value(for: $0.layer) != nil }.map(\.layer),
        sparsity: { sparsity?.value(for: $0) ?? 0 }, config: c, context: context)
    }
    if c.training.configuration.epochs > 0 {
      context.report(0.05, "fine-tuning\(c.training.teacher.map { " from \($0)" } ?? "")")
      try c.training.train(model, on: context.data.train, context: context, from: 0.05)
    }
    return model
  }

  /// Refuses an N:M pattern on a layer whose input width is not a multiple of M.
  func checkPattern(_ weights: [(layer: String, parameter: Parameter)]) throws {
    guard case .keep(_, let m) = config.pattern else { return }
    for (layer, parameter) in weights where parameter.shape[1] % m != 0 {
      throw StepFailure(
        config.source.error(
          "pattern",
          "\(config.pattern) needs input widths that are multiples of \(m); \(layer) has \(parameter.shape[1]) inputs "
            + "(leave it out with layers)"
        ).description)
    }
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
    /// Wanda: |W_ij|·‖X_j‖₂ compared within each output row (masks; calibrated, no update).
    case wanda
    /// SparseGPT: OBS pruning with the inverse input Hessian, the kept weights updated (masks).
    case sparsegpt
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
  /// Where the zeros may go (Linear layers only for N:M).
  public var pattern: SparsityPattern
  /// Layers to prune; nil prunes every candidate.
  public var layers: [String]?
  /// Wanda, SparseGPT: training examples whose inputs calibrate each layer.
  public var calibrationSamples: Int
  /// SparseGPT: fraction of the input Hessian's mean diagonal added to its diagonal.
  public var damp: Double
  public var source: SettingSource

  public init(
    method: Method = .magnitude, scope: Scope = .layer, sparsity: PerLayer<Double>? = .all(0.5),
    useSensitivity: Bool = false, criterion: StructuredPruning.Criterion = .l1, targetMACs: Double? = nil,
    training: TrainingSettings = .defaults(epochs: 0, learningRate: 0.01), pattern: SparsityPattern = .unstructured,
    layers: [String]? = nil, calibrationSamples: Int = 128, damp: Double = 0.01,
    source: SettingSource = .code("prune")
  ) {
    self.pattern = pattern
    self.layers = layers
    self.calibrationSamples = calibrationSamples
    self.damp = damp
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
    guard let pattern = SparsityPattern(p.string("pattern")) else {
      throw p.error(
        "pattern", "expected unstructured or N:M with 0 < N < M <= 128 (\"2:4\"), got \(p.string("pattern"))")
    }
    self.init(
      method: Method(rawValue: p.string("method")) ?? .magnitude, scope: Scope(rawValue: p.string("scope")) ?? .layer,
      sparsity: p.perLayerDouble("sparsity"), useSensitivity: p.bool("use_sensitivity"),
      criterion: p.string("criterion") == "l2" ? .l2 : .l1, targetMACs: p.optionalDouble("target_macs"),
      training: TrainingSettings(p), pattern: pattern, layers: p.isSet("layers") ? p.strings("layers") : nil,
      calibrationSamples: p.int("calibration_samples"), damp: p.double("damp"), source: p.source)
    if pattern != .unstructured && method == .structured {
      throw p.error(
        "pattern", "method: structured removes whole channels; an N:M pattern needs magnitude, wanda or sparsegpt")
    }
    if pattern != .unstructured && (p.isSet("sparsity") || useSensitivity) {
      throw p.error(
        p.isSet("sparsity") ? "sparsity" : "use_sensitivity",
        "pattern \(pattern) fixes the sparsity at \(pattern.impliedSparsity!); leave out sparsity and use_sensitivity")
    }
    if scope == .global && (method == .wanda || method == .sparsegpt || pattern != .unstructured) {
      throw p.error(
        "scope",
        "scope: global ranks all weights by magnitude together; \(method.rawValue) with pattern \(pattern) prunes each layer"
      )
    }
    for key in ["calibration_samples", "damp"] where p.isSet(key) && !(method == .wanda || method == .sparsegpt) {
      throw p.error(key, "\(key) applies to method: wanda or sparsegpt")
    }
    if p.isSet("damp") && method == .wanda { throw p.error("damp", "damp applies to method: sparsegpt") }
    if targetMACs != nil && method != .structured {
      throw p.error("target_macs", "target_macs needs method: structured")
    }
    if targetMACs != nil && (p.isSet("sparsity") || useSensitivity) {
      throw p.error("target_macs", "target_macs chooses the sparsity; leave out sparsity and use_sensitivity")
    }
  }
}
