import Foundation
import LatheIO
import Yams

/// A value written in a pipeline file: a number, a string, a flag, a list, or a map (per-layer
/// settings such as `sparsity: {fc1: 0.9, fc2: 0.8}`).
public indirect enum ParameterValue: Sendable, Equatable, CustomStringConvertible {
  case int(Int)
  case float(Double)
  case bool(Bool)
  case string(String)
  case list([ParameterValue])
  case map([(key: String, value: ParameterValue)])

  public static func == (a: ParameterValue, b: ParameterValue) -> Bool { a.description == b.description }

  public var description: String {
    switch self {
    case .int(let v): return "\(v)"
    case .float(let v): return "\(v)"
    case .bool(let v): return "\(v)"
    case .string(let v): return v
    case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
    case .map(let pairs): return "{" + pairs.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
    }
  }

  /// The value as a number, when it is an int or a float.
  public var number: Double? {
    switch self {
    case .int(let i): return Double(i)
    case .float(let f): return f
    default: return nil
    }
  }

  /// The value as YAML text, for writing pipeline files back.
  public var yaml: String {
    switch self {
    case .string(let v):
      let plain = v.range(of: #"^[A-Za-z_][A-Za-z0-9_./-]*$"#, options: .regularExpression) != nil
      if plain && !["true", "false", "null", "yes", "no"].contains(v.lowercased()) { return v }
      // Double-quoted YAML: backslashes, quotes and control characters must be escaped.
      let escaped = v.unicodeScalars.map { c -> String in
        switch c {
        case "\\": return "\\\\"
        case "\"": return "\\\""
        case "\n": return "\\n"
        case "\t": return "\\t"
        case "\r": return "\\r"
        default: return c.value < 0x20 ? String(format: "\\u%04X", c.value) : String(c)
        }
      }
      return "\"" + escaped.joined() + "\""
    case .list(let items): return "[" + items.map(\.yaml).joined(separator: ", ") + "]"
    case .map(let pairs):
      return "{" + pairs.map { "\(ParameterValue.string($0.key).yaml): \($0.value.yaml)" }.joined(separator: ", ") + "}"
    default: return description
    }
  }
}

/// One step as written in the file: which technique, its settings, and where it was written.
public struct StepSpec: Sendable, Equatable {
  public var name: String
  public var technique: String
  public var parameters: [(key: String, value: ParameterValue)]
  /// 1-based line of the step and of each parameter, for error messages (0 when built in code).
  public var line: Int
  public var parameterLines: [String: Int]

  public init(
    name: String, technique: String, parameters: [(key: String, value: ParameterValue)] = [], line: Int = 0,
    parameterLines: [String: Int] = [:]
  ) {
    self.name = name
    self.technique = technique
    self.parameters = parameters
    self.line = line
    self.parameterLines = parameterLines
  }

  public static func == (a: StepSpec, b: StepSpec) -> Bool {
    a.name == b.name && a.technique == b.technique && a.parameters.map(\.key) == b.parameters.map(\.key)
      && zip(a.parameters, b.parameters).allSatisfy { $0.value == $1.value }
  }

  public subscript(key: String) -> ParameterValue? { parameters.first { $0.key == key }?.value }

  /// The setting every step may have: which model the step starts from. `from: input` is the
  /// pipeline's input model, `from: NAME` an earlier step's result, so methods can be compared
  /// side by side from the same model (RTN and GPTQ in `llm-int4`); `from: previous` (the
  /// default) is the step before.
  public static let startKey = "from"

  /// Where the step starts: nil for the step before, "input", or an earlier step's name.
  public var start: String? {
    guard case .string(let name)? = self[Self.startKey], name != "previous" else { return nil }
    return name
  }

  /// Whether the step starts from the pipeline's input model (`from: input`).
  public var startsFromInput: Bool { start == "input" }
}

/// A pipeline: the model and dataset it starts from and its steps in order.
public struct PipelineSpec: Sendable, Equatable {
  public var name: String
  public var summary: String?
  public var model: String?
  public var dataset: String?
  public var steps: [StepSpec]
  /// The file it was read from; relative model paths resolve against its folder.
  public var file: URL?
  /// The top-level `search:` section, kept raw: `lathe search` reads it, `lathe run` ignores it.
  public var search: RawSection?
  /// Lines of the top-level keys, so errors found later (a model that cannot be opened) can
  /// point at them.
  public var keyLines = KeyLines()

  public init(
    name: String, summary: String? = nil, model: String?, dataset: String?, steps: [StepSpec], file: URL? = nil
  ) {
    self.name = name
    self.summary = summary
    self.model = model
    self.dataset = dataset
    self.steps = steps
    self.file = file
  }
}

/// Where keys were written: 1-based lines by key (none when built in code). Not part of a
/// pipeline's identity, like `StepSpec.line`: two equal pipelines may sit on different lines.
public struct KeyLines: Sendable, Equatable {
  public var lines: [String: Int] = [:]
  public init() {}
  public subscript(key: String) -> Int { lines[key] ?? 0 }
  public static func == (a: KeyLines, b: KeyLines) -> Bool { true }
}

extension PipelineSpec {
  /// An error about the top-level `key`, at its line.
  public func error(_ key: String, _ message: String) -> PipelineError {
    PipelineError(file: file?.path ?? name, line: keyLines[key], key: key, message: message)
  }
}

/// A top-level section read as a value, with the lines of its keys so errors can point at them.
public struct RawSection: Sendable, Equatable {
  public var value: ParameterValue
  public var line: Int
  public var keyLines: [String: Int]

  public init(value: ParameterValue, line: Int = 0, keyLines: [String: Int] = [:]) {
    self.value = value
    self.line = line
    self.keyLines = keyLines
  }
}

/// A pipeline file that cannot be used, with where and why.
public struct PipelineError: Error, CustomStringConvertible, Equatable {
  public var file: String
  public var line: Int
  public var key: String?
  public var message: String

  public init(file: String, line: Int, key: String? = nil, message: String) {
    self.file = file
    self.line = line
    self.key = key
    self.message = message
  }

  /// One line, whatever the file held: keys and values echoed from it may contain line breaks
  /// and other control characters, which are shown escaped (`\r`, `\u{7}`).
  public var description: String {
    let place = line > 0 ? "\(file):\(line)" : file
    let text = key.map { "\(place): \($0): \(message)" } ?? "\(place): \(message)"
    return OneLine.escaping(text)
  }
}

extension PipelineSpec {
  /// Reads a pipeline file (YAML). Top-level keys: `name`, `description`, `model`, `dataset`,
  /// `steps` (a list of maps, each with `technique`, an optional `name`, and its settings).
  public static func read(from url: URL) throws -> PipelineSpec {
    let text = try YAMLDocument.readText(url)
    var spec = try parse(text, file: url.path, defaultName: url.deletingPathExtension().lastPathComponent)
    spec.file = url
    return spec
  }

  public static func parse(_ text: String, file: String, defaultName: String = "pipeline") throws -> PipelineSpec {
    let root = try YAMLDocument.compose(text, file: file)
    guard let root, let mapping = root.mapping else {
      throw PipelineError(
        file: file, line: root?.mark?.line ?? 1, message: "expected a map with model, dataset and steps")
    }
    var spec = PipelineSpec(name: defaultName, model: nil, dataset: nil, steps: [])
    var sawSteps = false
    for (keyNode, valueNode) in mapping {
      let key = keyNode.string ?? ""
      let line = keyNode.mark?.line ?? 0
      spec.keyLines.lines[key] = line
      switch key {
      case "name": spec.name = try scalarString(valueNode, file: file, key: key)
      case "description": spec.summary = try scalarString(valueNode, file: file, key: key)
      case "model": spec.model = try scalarString(valueNode, file: file, key: key)
      case "dataset": spec.dataset = try scalarString(valueNode, file: file, key: key)
      case "steps":
        sawSteps = true
        guard let items = valueNode.sequence else {
          throw PipelineError(file: file, line: line, key: key, message: "expected a list of steps")
        }
        for (index, item) in items.enumerated() {
          spec.steps.append(try parseStep(item, index: index, file: file))
        }
      case "search":
        var keyLines: [String: Int] = [:]
        if let pairs = valueNode.mapping {
          for (k, _) in pairs { keyLines[k.string ?? ""] = k.mark?.line ?? line }
        }
        spec.search = RawSection(value: try value(valueNode, file: file, key: key), line: line, keyLines: keyLines)
      default:
        throw PipelineError(
          file: file, line: line, key: key,
          message: "unknown key; expected name, description, model, dataset, steps or search")
      }
    }
    guard sawSteps else {
      throw PipelineError(file: file, line: 1, key: "steps", message: "missing: a pipeline needs steps")
    }
    var seen = Set<String>()
    for step in spec.steps where !seen.insert(step.name).inserted {
      throw PipelineError(file: file, line: step.line, key: "name", message: "two steps are named \"\(step.name)\"")
    }
    return spec
  }

  private static func parseStep(_ node: Node, index: Int, file: String) throws -> StepSpec {
    let line = node.mark?.line ?? 0
    guard let mapping = node.mapping else {
      throw PipelineError(file: file, line: line, message: "step \(index + 1): expected a map with a technique")
    }
    var technique: String?
    var name: String?
    var parameters: [(key: String, value: ParameterValue)] = []
    var lines: [String: Int] = [:]
    for (keyNode, valueNode) in mapping {
      let key = keyNode.string ?? ""
      lines[key] = keyNode.mark?.line ?? line
      switch key {
      case "technique": technique = try scalarString(valueNode, file: file, key: key)
      case "name": name = try scalarString(valueNode, file: file, key: key)
      default:
        if lines.keys.filter({ $0 == key }).count > 1 || parameters.contains(where: { $0.key == key }) {
          throw PipelineError(file: file, line: lines[key]!, key: key, message: "given twice")
        }
        parameters.append((key, try value(valueNode, file: file, key: key)))
      }
    }
    guard let technique else {
      throw PipelineError(file: file, line: line, key: "technique", message: "step \(index + 1) has no technique")
    }
    return StepSpec(
      name: name ?? "\(index + 1)-\(technique)", technique: technique, parameters: parameters, line: line,
      parameterLines: lines)
  }

  private static func scalarString(_ node: Node, file: String, key: String) throws -> String {
    guard let scalar = node.scalar else {
      throw PipelineError(file: file, line: node.mark?.line ?? 0, key: key, message: "expected a single value")
    }
    return scalar.string
  }

  /// A node as a value, reading scalars as the file's plain words; the step editor's typed
  /// fields read through it too (`ParameterDescriptor.parse`), so both agree on what `0.5` or `[a, b]` is.
  static func value(_ node: Node, file: String, key: String) throws -> ParameterValue {
    switch node {
    case .scalar(let scalar):
      if scalar.style == .plain {
        if let v = Int(scalar.string) { return .int(v) }
        if let v = Double(scalar.string) { return .float(v) }
        if ["true", "yes"].contains(scalar.string.lowercased()) { return .bool(true) }
        if ["false", "no"].contains(scalar.string.lowercased()) { return .bool(false) }
      }
      return .string(scalar.string)
    case .sequence(let items):
      return .list(try items.map { try value($0, file: file, key: key) })
    case .mapping(let pairs):
      return .map(
        try pairs.map { (k, v) in (k.string ?? "", try value(v, file: file, key: "\(key).\(k.string ?? "")")) })
    case .alias:
      throw PipelineError(file: file, line: node.mark?.line ?? 0, key: key, message: "YAML aliases are not supported")
    }
  }

  /// The pipeline as YAML (what the step editor saves).
  public func yaml() -> String {
    var lines: [String] = []
    lines.append("name: \(ParameterValue.string(name).yaml)")
    if let summary { lines.append("description: \(ParameterValue.string(summary).yaml)") }
    if let model { lines.append("model: \(ParameterValue.string(model).yaml)") }
    if let dataset { lines.append("dataset: \(ParameterValue.string(dataset).yaml)") }
    // A bare `steps:` reads back as null, not as an empty list.
    lines.append(steps.isEmpty ? "steps: []" : "steps:")
    for step in steps {
      lines.append("  - name: \(ParameterValue.string(step.name).yaml)")
      lines.append("    technique: \(step.technique)")
      for (key, value) in step.parameters { lines.append("    \(key): \(value.yaml)") }
    }
    if let search { lines.append("search: \(search.value.yaml)") }
    return lines.joined(separator: "\n") + "\n"
  }
}
