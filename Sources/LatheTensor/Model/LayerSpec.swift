/// One attribute of a layer as written in a model file's architecture description. JSON has no
/// infinities or NaN, and layers hold them (an ONNX `Clip` with `max=inf`): such floats are
/// written as the strings "inf", "-inf" and "nan" and read back as floats.
public enum AttributeValue: Codable, Equatable, Sendable {
  case int(Int)
  case float(Float)
  case ints([Int])
  case string(String)
  case bool(Bool)

  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if let v = try? c.decode(Bool.self) {
      self = .bool(v)
    } else if let v = try? c.decode(Int.self) {
      self = .int(v)
    } else if let v = try? c.decode(Float.self) {
      self = .float(v)
    } else if let v = try? c.decode([Int].self) {
      self = .ints(v)
    } else {
      let text = try c.decode(String.self)
      self = Self.nonFiniteNames.first { $0.name == text }.map { .float($0.value) } ?? .string(text)
    }
  }

  /// How non-finite floats are spelled in JSON; no layer has a string attribute with these values.
  private static let nonFiniteNames: [(name: String, value: Float)] = [
    ("inf", .infinity), ("-inf", -.infinity), ("nan", .nan),
  ]

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    switch self {
    case .int(let v): try c.encode(v)
    case .float(let v) where v.isNaN: try c.encode("nan")
    case .float(let v) where v.isInfinite: try c.encode(v > 0 ? "inf" : "-inf")
    case .float(let v): try c.encode(v)
    case .ints(let v): try c.encode(v)
    case .string(let v): try c.encode(v)
    case .bool(let v): try c.encode(v)
    }
  }
}

/// A layer as data: its operator name and attributes. Enough, with the parameter shapes
/// it implies, to rebuild the layer from a file.
public struct LayerSpec: Codable, Equatable, Sendable {
  public var op: String
  public var attributes: [String: AttributeValue]

  public init(op: String, attributes: [String: AttributeValue] = [:]) {
    self.op = op
    self.attributes = attributes
  }

  public func int(_ key: String) throws(ModelError) -> Int {
    guard case .int(let v) = attributes[key] else { throw .badAttribute(op: op, key: key, expected: "an integer") }
    return v
  }

  public func ints(_ key: String, default fallback: [Int]? = nil) throws(ModelError) -> [Int] {
    switch attributes[key] {
    case .ints(let v): return v
    case .int(let v): return [v, v]
    case nil:
      if let fallback { return fallback }
      throw .badAttribute(op: op, key: key, expected: "a list of integers")
    default: throw .badAttribute(op: op, key: key, expected: "a list of integers")
    }
  }

  public func float(_ key: String, default fallback: Float) throws(ModelError) -> Float {
    switch attributes[key] {
    case .float(let v): return v
    case .int(let v): return Float(v)
    case nil: return fallback
    default: throw .badAttribute(op: op, key: key, expected: "a number")
    }
  }

  public func bool(_ key: String, default fallback: Bool) throws(ModelError) -> Bool {
    switch attributes[key] {
    case .bool(let v): return v
    case nil: return fallback
    default: throw .badAttribute(op: op, key: key, expected: "true or false")
    }
  }

  public func string(_ key: String, default fallback: String) throws(ModelError) -> String {
    switch attributes[key] {
    case .string(let v): return v
    case nil: return fallback
    default: throw .badAttribute(op: op, key: key, expected: "a string")
    }
  }
}

/// What can be wrong with a model's description or state.
public enum ModelError: Error, CustomStringConvertible, Equatable {
  case unknownOp(String)
  case badAttribute(op: String, key: String, expected: String)
  case unknownArchitecture(String, known: [String])
  case unknownInput(node: String, input: String)
  case duplicateNode(String)
  case emptyGraph
  case missingParameter(String)
  case unexpectedParameter(String)
  case shapeMismatch(parameter: String, expected: [Int], found: [Int])
  case wrongType(parameter: String, expected: String, found: String)
  case invalidValue(parameter: String, reason: String)
  case nonFinite(parameter: String)
  /// A node cannot run on inputs of the shapes the graph gives it.
  case badShape(node: String, reason: String)
  /// A built layer whose weights are fixed (`LoadedThroughPlaceholder`) was asked to take new tensors.
  case notRestorable(node: String, op: String)

  public var description: String {
    switch self {
    case .unknownOp(let op): return "unknown layer op \"\(op)\""
    case .badAttribute(let op, let key, let expected): return "layer \(op): attribute \"\(key)\" should be \(expected)"
    case .unknownArchitecture(let name, let known):
      return "unknown architecture \"\(name)\"; known: \(known.joined(separator: ", "))"
    case .unknownInput(let node, let input):
      return "node \"\(node)\" reads \"\(input)\", which no earlier node produces"
    case .duplicateNode(let name): return "two nodes are named \"\(name)\""
    case .emptyGraph: return "the graph has no nodes"
    case .missingParameter(let name): return "tensor \"\(name)\" is missing"
    case .unexpectedParameter(let name): return "tensor \"\(name)\" belongs to no layer"
    case .shapeMismatch(let name, let expected, let found):
      return "tensor \"\(name)\" has shape \(found), the layer expects \(expected)"
    case .nonFinite(let name): return "tensor \"\(name)\" holds NaN or infinite values"
    case .badShape(let node, let reason): return "node \"\(node)\": \(reason)"
    case .notRestorable(let node, let op):
      return "node \"\(node)\" (\(op)) keeps the weights it was built with and cannot load new ones; "
        + "open its model file again instead"
    case .wrongType(let name, let expected, let found): return "tensor \"\(name)\" is \(found), expected \(expected)"
    case .invalidValue(let name, let reason): return "tensor \"\(name)\": \(reason)"
    }
  }
}
