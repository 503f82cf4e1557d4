import Foundation
import LatheCompress
import LatheSearch

extension SearchSpace {
  /// Reads the ranges written as step settings, e.g. `lr: {search: float, low: 0.001, high: 0.1, log: true}`.
  /// `layers` gives the model's prunable layers, asked for only when a per-layer range needs them.
  public static func parse(
    _ spec: PipelineSpec, file: String? = nil, layers: () throws -> [String] = { [] }
  ) throws -> SearchSpace {
    let file = file ?? spec.file?.path ?? spec.name
    var dimensions: [SearchDimension] = []
    var modelLayers: [String]?
    for step in spec.steps {
      for (key, value) in step.parameters {
        guard case .map(let pairs) = value, pairs.contains(where: { $0.key == "search" }) else { continue }
        let line = step.parameterLines[key] ?? step.line
        func fail(_ message: String) -> PipelineError {
          PipelineError(file: file, line: line, key: "\(step.name).\(key)", message: message)
        }
        let range = RangeSettings(pairs)
        let allowed: Set<String>
        switch range.string("search") {
        case "float":
          allowed = ["search", "low", "high", "log"]
          let (low, high) = try range.bounds(fail)
          let log = try range.flag("log", fail)
          if log && low <= 0 { throw fail("a log range needs low > 0") }
          dimensions.append(
            SearchDimension(step: step.name, key: key, kind: .float(low: low, high: high, log: log), line: line))
        case "int":
          allowed = ["search", "low", "high", "log"]
          let (low, high) = try range.intBounds(fail)
          let log = try range.flag("log", fail)
          if log && low <= 0 { throw fail("a log range needs low > 0") }
          dimensions.append(
            SearchDimension(step: step.name, key: key, kind: .int(low: low, high: high, log: log), line: line))
        case "choice":
          allowed = ["search", "values"]
          guard case .list(let values)? = range["values"], !values.isEmpty else {
            throw fail("a choice needs values: [a, b, ...]")
          }
          if values.count > RangeSettings.maxChoices {
            throw fail("a choice of \(values.count) values; the limit is \(RangeSettings.maxChoices)")
          }
          dimensions.append(
            SearchDimension(step: step.name, key: key, kind: .choice(values.map(JournalValue.init)), line: line))
        case "per-layer":
          allowed = ["search", "low", "high", "log", "type", "layers"]
          let isInt: Bool
          switch range.string("type") ?? "float" {
          case "float": isInt = false
          case "int": isInt = true
          case let other: throw fail("type \(other): expected float or int")
          }
          let log = try range.flag("log", fail)
          let kind: SearchDimension.Kind
          if isInt {
            let (low, high) = try range.intBounds(fail)
            if log && low <= 0 { throw fail("a log range needs low > 0") }
            kind = .int(low: low, high: high, log: log)
          } else {
            let (low, high) = try range.bounds(fail)
            if log && low <= 0 { throw fail("a log range needs low > 0") }
            kind = .float(low: low, high: high, log: log)
          }
          if modelLayers == nil { modelLayers = try layers() }
          var names = modelLayers ?? []
          if let chosen = range["layers"] {
            guard case .list(let items) = chosen else { throw fail("layers: expected a list of layer names") }
            let wanted = items.map(\.description)
            for name in wanted where !names.contains(name) {
              throw fail("no layer \"\(name)\"; layers: \(names.joined(separator: ", "))")
            }
            names = wanted
          }
          if names.isEmpty { throw fail("the model has no layers to search per layer") }
          for layer in names {
            dimensions.append(SearchDimension(step: step.name, key: key, layer: layer, kind: kind, line: line))
          }
        case let other:
          throw fail(
            "search \(other.map { "\"\($0)\"" } ?? "needs a kind"): expected float, int, choice or per-layer")
        }
        for (k, _) in pairs where !allowed.contains(k) {
          throw fail("unknown range setting \"\(k)\"; expected \(allowed.sorted().joined(separator: ", "))")
        }
      }
    }
    return SearchSpace(dimensions)
  }
}

/// The settings of one written range, read with errors that name the range.
private struct RangeSettings {
  let pairs: [(key: String, value: ParameterValue)]
  init(_ pairs: [(key: String, value: ParameterValue)]) { self.pairs = pairs }

  subscript(key: String) -> ParameterValue? { pairs.first { $0.key == key }?.value }

  func string(_ key: String) -> String? {
    if case .string(let s)? = self[key] { return s }
    return self[key]?.description
  }

  func flag(_ key: String, _ fail: (String) -> PipelineError) throws -> Bool {
    switch self[key] {
    case nil: return false
    case .bool(let b)?: return b
    case let other?: throw fail("\(key): expected true or false, got \(other)")
    }
  }

  func bounds(_ fail: (String) -> PipelineError) throws -> (Double, Double) {
    guard let lowValue = self["low"], let highValue = self["high"] else { throw fail("a range needs low and high") }
    guard let low = lowValue.number else { throw fail("low: expected a number, got \(lowValue)") }
    guard let high = highValue.number else { throw fail("high: expected a number, got \(highValue)") }
    guard low.isFinite, high.isFinite else { throw fail("low and high must be finite numbers, got \(low) and \(high)") }
    guard low < high else { throw fail("low (\(low)) must be below high (\(high))") }
    // Samplers interpolate between the bounds: the span itself must be a finite number.
    guard (high - low).isFinite else { throw fail("the range \(low)...\(high) is too wide") }
    return (low, high)
  }

  /// Searched integers stay well inside Int and exact as Double, so bins and logs never overflow.
  static let intLimit = 1 << 40
  /// More choices than trials any study runs.
  static let maxChoices = 10_000

  func intBounds(_ fail: (String) -> PipelineError) throws -> (Int, Int) {
    guard let lowValue = self["low"], let highValue = self["high"] else { throw fail("a range needs low and high") }
    guard case .int(let low) = lowValue else { throw fail("low: expected an integer, got \(lowValue)") }
    guard case .int(let high) = highValue else { throw fail("high: expected an integer, got \(highValue)") }
    guard abs(low) <= Self.intLimit, abs(high) <= Self.intLimit else {
      throw fail("low and high must lie within -\(Self.intLimit)...\(Self.intLimit), got \(low) and \(high)")
    }
    guard low < high else { throw fail("low (\(low)) must be below high (\(high))") }
    return (low, high)
  }
}
