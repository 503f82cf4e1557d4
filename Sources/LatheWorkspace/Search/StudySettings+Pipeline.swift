import Foundation
import LatheCompress
import LatheSearch

/// The `search:` section of a pipeline file read into `StudySettings`, with errors at FILE:LINE.
extension StudySettings {
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
