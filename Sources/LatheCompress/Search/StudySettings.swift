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

  public var description: String { "\(metric) \(relation.rawValue) \(ParameterValue.float(bound).description)" }

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

  /// Reads the section; `metrics` lists the names objectives and constraints may use.
  public static func parse(
    _ section: RawSection?, file: String, metrics: [String] = pipelineMetrics
  ) throws -> StudySettings {
    var settings = StudySettings()
    guard let section else { return settings }
    guard case .map(let pairs) = section.value else {
      throw PipelineError(file: file, line: section.line, key: "search", message: "expected a map of study settings")
    }
    for (key, value) in pairs {
      let line = section.keyLines[key] ?? section.line
      func fail(_ message: String) -> PipelineError {
        PipelineError(file: file, line: line, key: "search.\(key)", message: message)
      }
      func checkMetric(_ name: String) throws {
        guard metrics.contains(name) else {
          throw fail("unknown metric \"\(name)\"; known: \(metrics.joined(separator: ", "))")
        }
      }
      func positiveInt(atMost limit: Int) throws -> Int {
        guard case .int(let n) = value, n > 0 else { throw fail("expected a positive integer, got \(value)") }
        guard n <= limit else { throw fail("\(n) is more than the limit of \(limit)") }
        return n
      }
      switch key {
      case "objectives", "objective":
        let items: [ParameterValue]
        if case .list(let list) = value { items = list } else { items = [value] }
        settings.objectives = try items.map { item in
          let words = item.description.split(separator: " ").map(String.init)
          guard words.count == 2, let direction = Objective.Direction(rawValue: words[0]) else {
            throw fail("\"\(item)\": expected \"maximize METRIC\" or \"minimize METRIC\"")
          }
          try checkMetric(words[1])
          return Objective(direction, words[1])
        }
        if settings.objectives.isEmpty { throw fail("needs at least one objective") }
      case "constraints":
        let items: [ParameterValue]
        if case .list(let list) = value { items = list } else { items = [value] }
        settings.constraints = try items.map { item in
          let words = item.description.split(separator: " ").map(String.init)
          guard words.count == 3, let relation = Constraint.Relation(rawValue: words[1]),
            let bound = Double(words[2]), bound.isFinite
          else {
            throw fail("\"\(item)\": expected \"METRIC <= NUMBER\" or \"METRIC >= NUMBER\"")
          }
          try checkMetric(words[0])
          return Constraint(words[0], relation, bound)
        }
      case "trials": settings.trials = try positiveInt(atMost: Limits.trials)
      case "jobs": settings.jobs = try positiveInt(atMost: Limits.jobs)
      case "seed":
        guard case .int(let n) = value, n >= 0 else { throw fail("expected a non-negative integer, got \(value)") }
        settings.seed = UInt64(n)
      case "sampler":
        let name = value.description
        guard Samplers.names.contains(name) else {
          throw fail("unknown sampler \"\(name)\"; known: \(Samplers.names.joined(separator: ", "))")
        }
        settings.sampler = name
      case "pruner":
        guard let kind = PrunerKind(rawValue: value.description) else {
          throw fail(
            "unknown pruner \"\(value)\"; known: \(PrunerKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        settings.pruner = kind
      case "latency_seconds":
        guard let v = value.number, v > 0, v <= Limits.latencySeconds else {
          throw fail("expected a number in (0, \(Limits.latencySeconds)], got \(value)")
        }
        settings.latencySeconds = v
      case "budget":
        settings.budget = try parseBudget(value, fail)
      default:
        throw fail(
          "unknown study setting; expected objectives, constraints, trials, sampler, seed, jobs, pruner, budget"
            + " or latency_seconds")
      }
    }
    if settings.pruner != .none && settings.budget == nil {
      throw PipelineError(
        file: file, line: section.keyLines["pruner"] ?? section.line, key: "search.pruner",
        message: "early stopping needs a budget: {step: NAME, scale: {epochs: 1}, min: 1, max: 9}")
    }
    return settings
  }

  private static func parseBudget(_ value: ParameterValue, _ fail: (String) -> PipelineError) throws -> BudgetSetting {
    guard case .map(let pairs) = value else { throw fail("expected {step, scale, min, max, eta}") }
    func item(_ key: String) -> ParameterValue? { pairs.first { $0.key == key }?.value }
    for (key, _) in pairs where !["step", "scale", "min", "max", "eta"].contains(key) {
      throw fail("unknown budget setting \"\(key)\"; expected step, scale, min, max, eta")
    }
    guard let step = item("step")?.description else { throw fail("budget needs the step it applies to") }
    var scale: [(key: String, factor: Double)] = []
    switch item("scale") {
    case .map(let entries)?:
      for (k, v) in entries {
        guard let f = v.number, f > 0, f <= Limits.budgetFactor else {
          throw fail("scale.\(k): expected a positive number up to \(Limits.budgetFactor), got \(v)")
        }
        scale.append((k, f))
      }
    case .string(let k)?: scale = [(k, 1)]
    case nil: scale = [("epochs", 1)]
    case let other?: throw fail("scale: expected {setting: factor}, got \(other)")
    }
    guard case .int(let low)? = item("min"), case .int(let high)? = item("max"), low >= 1, high > low else {
      throw fail("budget needs integers min >= 1 and max > min")
    }
    // round(budget × factor) and the rungs' min·eta^k must stay far from Int's limits.
    guard high <= Limits.budget else { throw fail("budget max \(high) is more than the limit of \(Limits.budget)") }
    var eta = 3
    if let e = item("eta") {
      guard case .int(let n) = e, n >= 2, n <= Limits.budget else {
        throw fail("eta: expected an integer in 2...\(Limits.budget), got \(e)")
      }
      eta = n
    }
    return BudgetSetting(step: step, scale: scale, min: low, max: high, eta: eta)
  }
}
