/// What a pipeline's steps leave for the steps after them. The runner keeps it between steps;
/// each step reads and may replace its fields through `StepContext.state`.
public struct PipelineState: Sendable, Equatable {
  /// Per-layer sparsity targets from a sensitivity step, for a later prune (use_sensitivity).
  public var sensitivityTargets: SensitivityTargets?

  public init(sensitivityTargets: SensitivityTargets? = nil) {
    self.sensitivityTargets = sensitivityTargets
  }
}

/// The sparsity each prunable layer can take within a sensitivity analysis's accuracy budget.
public struct SensitivityTargets: Sendable, Equatable {
  /// Fraction of weights to remove, by layer name (0 where even the mildest sparsity cost too much).
  public var sparsityByLayer: [String: Double]

  public init(_ sparsityByLayer: [String: Double]) { self.sparsityByLayer = sparsityByLayer }
}
