import Foundation

/// What a study optimizes: one metric of a trial's final model, to raise or to lower.
public struct Objective: Sendable, Equatable, CustomStringConvertible {
  public enum Direction: String, Sendable { case maximize, minimize }
  public var metric: String
  public var direction: Direction

  public init(_ direction: Direction, _ metric: String) {
    self.metric = metric
    self.direction = direction
  }

  public var description: String { "\(direction.rawValue) \(metric)" }

  /// Whether a stored study's objectives (`texts`, as `description` writes them, or only the
  /// direction when the study named no metrics: one Optuna made) are `objectives`.
  public static func same(_ texts: [String], as objectives: [Objective]) -> Bool {
    texts.count == objectives.count
      && zip(texts, objectives).allSatisfy { text, objective in
        let words = text.split(separator: " ", maxSplits: 1).map(String.init)
        return words.first == objective.direction.rawValue && (words.count == 1 || words[1] == objective.metric)
      }
  }

  /// The metric turned into a value to minimize (samplers only minimize), or nil if it is missing.
  public func loss(_ metrics: [String: Double]) -> Double? {
    guard let v = metrics[metric], v.isFinite else { return nil }
    return direction == .minimize ? v : -v
  }
}

/// A bound a trial's final model must meet to count, e.g. `size_bytes <= 50000`.
public struct Constraint: Sendable, Equatable, CustomStringConvertible {
  public enum Relation: String, Sendable {
    case atMost = "<="
    case atLeast = ">="
  }
  public var metric: String
  public var relation: Relation
  public var bound: Double

  public init(_ metric: String, _ relation: Relation, _ bound: Double) {
    self.metric = metric
    self.relation = relation
    self.bound = bound
  }

  public var description: String { "\(metric) \(relation.rawValue) \(JournalValue.float(bound).description)" }

  /// How far past the bound, relative to it (0 when met): infeasible trials rank by this.
  /// Within one part in a million counts as met: accuracy is measured in Float, so a written
  /// 0.94 comes back as 0.93999999761.
  public func violation(_ metrics: [String: Double]) -> Double {
    guard let v = metrics[metric], v.isFinite else { return 1 }
    let excess = relation == .atMost ? v - bound : bound - v
    let scale = max(abs(bound), 1e-12)
    return excess <= 1e-6 * max(scale, 1) ? 0 : excess / scale
  }
}

/// The budget early stopping hands out: values of one step's settings (e.g. fine-tuning epochs)
/// that grow from `min` to `max` by `eta` at each rung.
public struct BudgetSetting: Sendable, Equatable {
  public var step: String
  /// Settings set to round(budget × factor), e.g. `{epochs: 1, pruning_epochs: 0.5}`.
  public var scale: [(key: String, factor: Double)]
  public var min: Int
  public var max: Int
  public var eta: Int

  public init(step: String, scale: [(key: String, factor: Double)], min: Int, max: Int, eta: Int = 3) {
    self.step = step
    self.scale = scale
    self.min = min
    self.max = max
    self.eta = eta
  }

  public static func == (a: BudgetSetting, b: BudgetSetting) -> Bool {
    a.step == b.step && a.scale.map(\.key) == b.scale.map(\.key) && a.scale.map(\.factor) == b.scale.map(\.factor)
      && a.min == b.min && a.max == b.max && a.eta == b.eta
  }

  /// The budgets of the rungs: min, min·eta, ... and always max last.
  public var rungs: [Int] {
    var budgets: [Int] = []
    var b = Swift.max(min, 1)
    while b < max {
      budgets.append(b)
      b *= Swift.max(eta, 2)
    }
    budgets.append(max)
    return budgets
  }
}

/// Which early-stopping rule stops bad trials at the lower rungs.
public enum PrunerKind: String, Sendable, CaseIterable {
  case none, median
  case successiveHalving = "successive-halving"
  case hyperband
}

/// The `search:` section of a pipeline file: objectives, constraints and defaults for the study.
public struct StudySettings: Sendable, Equatable {
  public var objectives: [Objective] = [Objective(.maximize, "accuracy")]
  public var constraints: [Constraint] = []
  public var trials: Int = 20
  /// nil: TPE for one objective, NSGA-II for several.
  public var sampler: String?
  public var seed: UInt64 = 0
  public var jobs: Int?
  public var pruner: PrunerKind = .none
  public var budget: BudgetSetting?
  /// `lathe run --latency-seconds` for each trial: short, since many trials run.
  public var latencySeconds: Double = 0.1

  public init() {}

  public var samplerName: String { sampler ?? (objectives.count > 1 ? "nsga2" : "tpe") }

  /// Metrics a pipeline trial reports (the final step's, from `lathe run --json`).
  public static let pipelineMetrics = [
    "accuracy", "size_bytes", "latency_b1", "latency_b1_p95", "latency_b256", "latency_b256_p95",
    "compression_ratio", "nonzeros", "parameters", "bits_per_weight", "wall_seconds",
  ]

  /// Upper bounds on what a file may ask for: far beyond real studies, small enough that no
  /// count or product derived from them overflows or allocates without bound.
  public enum Limits {
    public static let trials = 100_000
    public static let jobs = 1024
    public static let budget = 1_000_000
    public static let budgetFactor = 1000.0
    public static let latencySeconds = 3600.0
  }
}
