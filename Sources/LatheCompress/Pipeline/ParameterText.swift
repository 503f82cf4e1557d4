import Foundation
import Yams

/// Typed text that does not fit its parameter, with the reason the step editor shows under the field.
public struct ParameterTextError: Error, Sendable, Equatable, CustomStringConvertible {
  public var key: String
  public var reason: String

  public init(key: String, reason: String) {
    self.key = key
    self.reason = reason
  }

  public var description: String { "\(key): \(reason)" }
}

extension ParameterDescriptor {
  /// Reads what a user typed into this parameter's field as the value a pipeline file would
  /// hold, checked against the kind and its range. Lists and per-layer maps are read as YAML
  /// (`[fc1, fc2]`, `{fc1: 0.9, fc2: 0.8}`) by the same reader as pipeline files.
  ///
  /// Returns nil for empty text in a free-form field (text, list, per-layer): the setting is
  /// then left out and its default applies. Int, float, choice and bool fields need a value.
  public func parse(_ text: String) throws(ParameterTextError) -> ParameterValue? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    switch kind {
    case .int(let range):
      return .int(try wholeNumber(trimmed, in: range, what: nil))
    case .float(let range):
      return .float(try number(trimmed, in: range, what: nil))
    case .choice(let choices):
      guard choices.contains(trimmed) else { throw failure("one of \(choices.joined(separator: ", "))") }
      return .string(trimmed)
    case .bool:
      switch trimmed.lowercased() {
      case "true", "yes", "on", "1": return .bool(true)
      case "false", "no", "off", "0": return .bool(false)
      default: throw failure("true or false")
      }
    case .text:
      return trimmed.isEmpty ? nil : .string(trimmed)
    case .list:
      if trimmed.isEmpty { return nil }
      // "fc1, fc2" is one YAML string; read it as the list the user meant.
      let value = try yaml(trimmed.hasPrefix("[") ? trimmed : "[\(trimmed)]")
      guard case .list = value else { throw failure("a list, e.g. [fc1, fc2]") }
      return value
    case .perLayerFloat(let range):
      if trimmed.isEmpty { return nil }
      return try perLayer(trimmed) { text, layer throws(ParameterTextError) in
        .float(try number(text, in: range, what: layer))
      }
    case .perLayerInt(let range):
      if trimmed.isEmpty { return nil }
      return try perLayer(trimmed) { text, layer throws(ParameterTextError) in
        .int(try wholeNumber(text, in: range, what: layer))
      }
    }
  }

  /// A value as this parameter's field shows it, so `parse` reads the text back to the same
  /// value: lists and maps as YAML, everything else as written; "" when unset without default.
  public func text(of value: ParameterValue?) -> String {
    switch value {
    case nil: return ""
    case .list?, .map?: return value!.yaml
    case let scalar?: return scalar.description
    }
  }

  private func failure(_ reason: String, layer: String? = nil) -> ParameterTextError {
    ParameterTextError(key: key, reason: layer.map { "\($0): \(reason)" } ?? reason)
  }

  private func wholeNumber(_ text: String, in range: ClosedRange<Int>, what layer: String?) throws(ParameterTextError)
    -> Int
  {
    guard let value = Int(text) else { throw failure("not a whole number", layer: layer) }
    guard range.contains(value) else {
      throw failure("must be in \(range.lowerBound)...\(range.upperBound)", layer: layer)
    }
    return value
  }

  private func number(_ text: String, in range: ClosedRange<Double>, what layer: String?) throws(ParameterTextError)
    -> Double
  {
    guard let value = Double(text), value.isFinite else { throw failure("not a number", layer: layer) }
    guard range.contains(value) else {
      throw failure("must be in \(range.lowerBound)...\(range.upperBound)", layer: layer)
    }
    return value
  }

  /// One value for every layer, or a `{layer: value}` map; `item` checks each value's text.
  private func perLayer(
    _ text: String, _ item: (String, String?) throws(ParameterTextError) -> ParameterValue
  ) throws(ParameterTextError) -> ParameterValue {
    switch try yaml(text) {
    case .map(let pairs):
      guard !pairs.isEmpty else { throw failure("a value, or a map such as {fc1: 0.9, fc2: 0.8}") }
      var checked: [(key: String, value: ParameterValue)] = []
      for (layer, value) in pairs {
        guard !value.isCompound else { throw failure("not a single value", layer: layer) }
        checked.append((layer, try item(value.description, layer)))
      }
      return .map(checked)
    case .list: throw failure("a value, or a map such as {fc1: 0.9, fc2: 0.8}")
    case let scalar: return try item(scalar.description, nil)
    }
  }

  /// The text read as a pipeline file would read this parameter's value.
  private func yaml(_ text: String) throws(ParameterTextError) -> ParameterValue {
    do {
      guard let node = try YAMLDocument.compose(text, file: "field") else { throw failure("empty") }
      return try PipelineSpec.value(node, file: "field", key: key)
    } catch let error as ParameterTextError {
      throw error
    } catch let error as PipelineError {
      throw failure(error.message)
    } catch {
      throw failure("\(error)")
    }
  }
}

extension ParameterValue {
  fileprivate var isCompound: Bool {
    switch self {
    case .list, .map: return true
    default: return false
    }
  }
}
