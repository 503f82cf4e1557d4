import Foundation
import LatheCompress
import LatheIO

/// Fills `{...}` in tutorial text with numbers from the live workbench, formatted exactly as
/// the panels print them, so the learner can find each number on screen.
///
/// - `{model}`, `{dataset}`, `{accuracy}`, `{size}`, `{latency}`, `{sparsity}`, `{params}`: the
///   model now.
/// - `{baseline.METRIC}`: the model as opened; `{step.NAME.METRIC}`: after step NAME, where
///   METRIC is accuracy, size, latency, latency256, ratio, bits, params, nonzeros, seconds or
///   perplexity (a language model's), a
///   finding the step reported (`student_alone_accuracy`), or one of its settings (`sparsity`).
/// - `{layer.NAME.FIELD}`: sparsity, bits, bytes, kernel or params of a layer now.
/// - `{kept.NAME}`: a value a step kept (`keep:`).
/// - `{search.complete}`, `{search.trials}`: the study's complete trials and its total;
///   `{search.best}`: the best trial's number (the front's first); `{search.best.F}` with F one
///   of accuracy, size, latency.
///
/// A number not measured yet shows as "…".
public enum Placeholders {
  public static let missing = "…"
  static let modelFields: Set<String> = ["model", "dataset", "accuracy", "size", "latency", "sparsity", "params"]
  static let metricFields: Set<String> = [
    "accuracy", "size", "latency", "latency256", "ratio", "bits", "params", "nonzeros", "seconds", "perplexity",
  ]
  static let layerFields: Set<String> = ["sparsity", "bits", "bytes", "kernel", "params"]
  static let searchFields: Set<String> = ["complete", "trials", "best"]
  static let trialFields: Set<String> = ["accuracy", "size", "latency"]

  /// The placeholders in `text`, without braces, in order.
  public static func names(in text: String) -> [String] {
    var names: [String] = []
    var rest = text[...]
    while let open = rest.firstIndex(of: "{") {
      guard let close = rest[open...].firstIndex(of: "}") else { break }
      names.append(String(rest[rest.index(after: open)..<close]))
      rest = rest[rest.index(after: close)...]
    }
    return names
  }

  /// Why a placeholder cannot be filled whatever the state, or nil when it is well formed.
  public static func problem(_ name: String) -> String? {
    // An unclosed brace makes everything up to the next "}" the name: say so rather than echo it.
    if name.contains(where: \.isNewline) || name.count > 120 {
      return "a \"{\" with no \"}\" on its line; placeholders are written {name}"
    }
    if name == "else" || name == "end" { return nil }
    if name.hasPrefix("if ") {
      guard let condition = LessonCondition(String(name.dropFirst(3))) else {
        let ops = LessonCondition.Operator.allCases.map(\.rawValue).joined(separator: " ")
        return "{\(name)}: write {if A OP B} with A and B placeholders or numbers and OP one of \(ops)"
      }
      return condition.problem
    }
    let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    switch parts.first {
    case _ where parts.count == 1:
      return modelFields.contains(name)
        ? nil : "unknown placeholder {\(name)}; known: \(modelFields.sorted().joined(separator: ", "))"
    case "baseline":
      return parts.count == 2 && metricFields.contains(parts[1])
        ? nil : "{\(name)}: use {baseline.X} with X one of \(metricFields.sorted().joined(separator: ", "))"
    case "step":
      return parts.count == 3 && !parts[1].isEmpty && !parts[2].isEmpty ? nil : "{\(name)}: use {step.NAME.METRIC}"
    case "layer":
      return parts.count == 3 && layerFields.contains(parts[2])
        ? nil : "{\(name)}: use {layer.NAME.X} with X one of \(layerFields.sorted().joined(separator: ", "))"
    case "kept":
      return parts.count == 2 && !parts[1].isEmpty ? nil : "{\(name)}: use {kept.NAME}"
    case "search":
      let known = parts.count == 2 && searchFields.contains(parts[1])
      let trial = parts.count == 3 && parts[1] == "best" && trialFields.contains(parts[2])
      return known || trial
        ? nil
        : "{\(name)}: use {search.X} with X one of \(searchFields.sorted().joined(separator: ", ")), "
          + "or {search.best.X} with X one of \(trialFields.sorted().joined(separator: ", "))"
    default:
      return "unknown placeholder {\(name)}"
    }
  }

  /// `text` with every placeholder replaced by its value now.
  /// `{if A OP B}…{else}…{end}` keeps the text whose condition holds (`LessonCondition`).
  public static func fill(_ text: String, _ context: TutorialContext, kept: [String: String] = [:]) -> String {
    var result = ""
    var rest = text[...]
    // False inside the branch of an `{if}` that is not taken.
    var showing = true
    var branchTaken = false
    while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
      if showing { result += rest[..<open] }
      let name = String(rest[rest.index(after: open)..<close])
      rest = rest[rest.index(after: close)...]
      if name.hasPrefix("if "), let condition = LessonCondition(String(name.dropFirst(3))) {
        branchTaken = condition.holds { value($0, context, kept: kept) }
        showing = branchTaken
      } else if name == "else" {
        showing = !branchTaken
      } else if name == "end" {
        showing = true
      } else if showing {
        result += value(name, context, kept: kept)
      }
    }
    return showing ? result + rest : result
  }

  /// One placeholder's value, or `missing`.
  public static func value(_ name: String, _ context: TutorialContext, kept: [String: String] = [:]) -> String {
    let state = context.state
    let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    switch parts.first {
    case _ where parts.count == 1:
      guard let model = state.model else { return missing }
      switch name {
      case "model": return model.name
      case "dataset": return model.dataset
      case "accuracy": return model.totals.accuracy.map { Format.percent($0) } ?? missing
      case "size": return model.totals.bytes > 0 ? ByteCount.format(model.totals.bytes) : missing
      case "latency": return latest(state).map { Format.micros($0.latencyUs.batch1P50) } ?? missing
      case "sparsity": return Format.percent(model.totals.sparsity, digits: 0)
      case "params": return Format.count(model.totals.parameters)
      default: return missing
      }
    case "baseline" where parts.count == 2:
      return state.baseline.flatMap { metric(parts[1], $0) } ?? missing
    case "step" where parts.count == 3:
      let stepName = parts[1]
      let field = parts[2]
      if let step = state.steps.first(where: { $0.name == stepName }), step.state == .done,
        let metrics = step.metrics
      {
        if let text = metric(field, metrics) { return text }
        if let extra = metrics.extra[field] { return formatExtra(field, extra) }
      }
      if !metricFields.contains(field), let setting = context.setting(step: stepName, key: field) { return setting }
      return missing
    case "layer" where parts.count == 3:
      guard let layer = state.model?.layers.first(where: { $0.name == parts[1] }) else { return missing }
      switch parts[2] {
      case "sparsity": return Format.percent(layer.sparsity, digits: 0)
      case "bits": return Format.axis(layer.bits)
      case "bytes": return ByteCount.format(layer.bytes)
      case "kernel": return layer.kernel
      case "params": return Format.count(layer.parameters)
      default: return missing
      }
    case "kept" where parts.count == 2:
      return kept[parts[1]] ?? missing
    case "search":
      return state.search.flatMap { search(parts.dropFirst(), $0) } ?? missing
    default:
      return missing
    }
  }

  /// `{search.…}`: counts of the study, or the best trial (the front's first) and its metrics.
  static func search(_ fields: ArraySlice<String>, _ search: SearchState) -> String? {
    let best = search.front.first.flatMap { number in search.trials.first { $0.number == number } }
    switch Array(fields) {
    case ["complete"]: return "\(search.trials.filter { $0.state == .complete }.count)"
    case ["trials"]: return "\(search.totalTrials)"
    case ["best"]: return best.map { "\($0.number)" }
    case ["best", "accuracy"]: return best?.accuracy.map { Format.percent($0) }
    case ["best", "size"]: return best?.sizeBytes.map { ByteCount.format($0) }
    case ["best", "latency"]: return best?.latencyB1.map { Format.micros($0) }
    default: return nil
    }
  }

  /// Metrics of the last done step, else of the model as opened.
  static func latest(_ state: WorkbenchState) -> StepMetrics? {
    state.steps.last(where: { $0.state == .done && $0.metrics != nil })?.metrics ?? state.baseline
  }

  static func metric(_ field: String, _ m: StepMetrics) -> String? {
    switch field {
    case "accuracy": return Format.percent(m.accuracy)
    case "size": return ByteCount.format(m.sizeBytes)
    case "latency": return Format.micros(m.latencyUs.batch1P50)
    case "latency256": return Format.micros(m.latencyUs.batch256P50)
    case "ratio": return String(format: "%.1fx", m.compressionRatio)
    case "bits": return Format.axis(m.bitsPerWeight)
    case "params": return Format.count(m.parameters)
    case "nonzeros": return Format.count(m.nonzeros)
    case "seconds": return Format.duration(m.wallSeconds)
    case "perplexity": return m.extra["perplexity"].map { String(format: "%.3f", $0) }
    default: return nil
    }
  }

  /// Findings named like accuracies or agreements are fractions and print as percentages.
  /// KL divergences are small numbers whose size matters: three significant digits.
  static func formatExtra(_ key: String, _ value: Double) -> String {
    if key.hasSuffix("accuracy") || key.hasPrefix("agreement") { return Format.percent(value) }
    if key.contains("kl_") || key == "perplexity" {
      return String(format: key == "perplexity" ? "%.3f" : "%.3g", value)
    }
    return Format.axis(value)
  }
}
