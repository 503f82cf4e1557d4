import Foundation
import LatheSearch

/// A parameter's distribution as Optuna stores it in `trial_params.distribution_json`, and
/// the float `param_value` that goes with a value: the value itself for numbers, the index of
/// the choice for categorical ones.
enum OptunaDistribution {
  /// The JSON text Optuna's `distribution_to_json` writes for `dimension`.
  static func json(_ dimension: SearchDimension) -> String {
    let object: [String: Any]
    switch dimension.kind {
    case .float(let low, let high, let log):
      object = ["name": "FloatDistribution", "attributes": ["step": NSNull(), "low": low, "high": high, "log": log]]
    case .int(let low, let high, let log):
      object = ["name": "IntDistribution", "attributes": ["log": log, "step": 1, "low": low, "high": high]]
    case .choice(let values):
      object = ["name": "CategoricalDistribution", "attributes": ["choices": values.map(choice)]]
    }
    return text(object)
  }

  /// Optuna's internal float for `value` of `dimension`, or nil when it is not in the range.
  static func internalValue(_ value: JournalValue, of dimension: SearchDimension) -> Double? {
    switch dimension.kind {
    case .float, .int: return value.number
    case .choice(let values): return values.firstIndex(of: value).map(Double.init)
    }
  }

  /// The value a stored parameter stands for, read from its distribution. Nil when the JSON is
  /// not one of Optuna's distributions or the index is outside the choices.
  static func value(_ internalValue: Double, distribution: String) -> JournalValue? {
    struct Stored: Decodable {
      struct Attributes: Decodable { var choices: [JournalValue?]? }
      var name: String
      var attributes: Attributes
    }
    guard let stored = try? JSONDecoder().decode(Stored.self, from: Data(distribution.utf8)) else { return nil }
    switch stored.name {
    case "FloatDistribution", "UniformDistribution", "LogUniformDistribution", "DiscreteUniformDistribution":
      return .float(internalValue)
    case "IntDistribution", "IntUniformDistribution", "IntLogUniformDistribution":
      guard internalValue.isFinite, abs(internalValue) < 1e15 else { return nil }
      return .int(Int(internalValue.rounded()))
    case "CategoricalDistribution":
      guard let choices = stored.attributes.choices, internalValue.isFinite, internalValue >= 0,
        Int(internalValue) < choices.count
      else { return nil }
      return choices[Int(internalValue)]
    default:
      return nil
    }
  }

  /// Optuna's choices are None, bool, int, float or text; a list choice (per-layer bit widths)
  /// is stored as its text, which reads back as the same value through `journalValue`.
  private static func choice(_ value: JournalValue) -> Any {
    switch value {
    case .int(let v): return v
    case .float(let v): return v
    case .bool(let v): return v
    case .string(let v): return v
    case .list: return value.description
    }
  }

  static func text(_ object: Any) -> String {
    let data =
      (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed])) ?? Data()
    return String(decoding: data, as: UTF8.self)
  }
}
