import Foundation

/// A compression technique the step editor can add, e.g. "magnitude-prune" or "int8-quantize".
public struct TechniqueDescriptor: Sendable, Equatable {
  public var name: String
  /// One line for the editor's list.
  public var summary: String
  public var parameters: [ParameterDescriptor]

  public init(name: String, summary: String, parameters: [ParameterDescriptor]) {
    self.name = name
    self.summary = summary
    self.parameters = parameters
  }

  /// A spec with every parameter at its default.
  public func defaultSpec(name stepName: String? = nil) -> PipelineStepSpec {
    var values: [String: ParameterValue] = [:]
    for parameter in parameters { values[parameter.key] = parameter.defaultValue }
    return PipelineStepSpec(name: stepName ?? name, technique: name, parameters: values)
  }
}

/// One parameter of a technique, with what the form needs to edit and check it.
public struct ParameterDescriptor: Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    /// Whole numbers within an optional range.
    case int(ClosedRange<Int>?)
    /// Real numbers within an optional range.
    case float(ClosedRange<Double>?)
    /// One of a fixed list of strings.
    case choice([String])
    case bool
    case text
  }

  public var key: String
  public var kind: Kind
  public var defaultValue: ParameterValue
  /// One line shown under the field.
  public var help: String

  public init(key: String, kind: Kind, defaultValue: ParameterValue, help: String) {
    self.key = key
    self.kind = kind
    self.defaultValue = defaultValue
    self.help = help
  }

  /// Parses what the user typed into this parameter's value, or says why it is not valid.
  public func parse(_ text: String) -> Result<ParameterValue, ParameterError> {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    switch kind {
    case .int(let range):
      guard let value = Int(trimmed) else { return .failure(ParameterError("\(key): not a whole number")) }
      if let range, !range.contains(value) {
        return .failure(ParameterError("\(key): must be in \(range.lowerBound)...\(range.upperBound)"))
      }
      return .success(.int(value))
    case .float(let range):
      guard let value = Double(trimmed), value.isFinite else {
        return .failure(ParameterError("\(key): not a number"))
      }
      if let range, !range.contains(value) {
        return .failure(ParameterError("\(key): must be in \(range.lowerBound)...\(range.upperBound)"))
      }
      return .success(.float(value))
    case .choice(let choices):
      guard choices.contains(trimmed) else {
        return .failure(ParameterError("\(key): one of \(choices.joined(separator: ", "))"))
      }
      return .success(.choice(trimmed))
    case .bool:
      switch trimmed.lowercased() {
      case "true", "yes", "on", "1": return .success(.bool(true))
      case "false", "no", "off", "0": return .success(.bool(false))
      default: return .failure(ParameterError("\(key): true or false"))
      }
    case .text:
      return .success(.text(text))
    }
  }
}

/// Why a typed parameter value was refused.
public struct ParameterError: Error, Sendable, Equatable {
  public var message: String
  public init(_ message: String) { self.message = message }
}

/// A parameter's value.
public enum ParameterValue: Sendable, Equatable, CustomStringConvertible {
  case int(Int)
  case float(Double)
  case choice(String)
  case bool(Bool)
  case text(String)

  /// The value as the form shows and the parser reads it back.
  public var description: String {
    switch self {
    case .int(let value): return String(value)
    case .float(let value): return String(value)
    case .choice(let value), .text(let value): return value
    case .bool(let value): return value ? "true" : "false"
    }
  }
}

/// One step of a pipeline as the editor builds it.
public struct PipelineStepSpec: Sendable, Equatable {
  /// Shown in the Pipeline panel; defaults to the technique name.
  public var name: String
  /// A `TechniqueDescriptor.name`.
  public var technique: String
  /// Values by parameter key; missing keys mean the default.
  public var parameters: [String: ParameterValue]

  public init(name: String, technique: String, parameters: [String: ParameterValue]) {
    self.name = name
    self.technique = technique
    self.parameters = parameters
  }
}
