import Foundation

/// One line of a study journal. A trial writes `start` when a worker takes it, `report` after
/// each early-stopping rung it passes, and `finish` once (complete, pruned or failed). The first
/// line of a journal is a `study` event naming the space, so a different pipeline cannot resume it.
public struct JournalEvent: Codable, Sendable, Equatable {
  public enum Kind: String, Codable, Sendable { case study, start, report, finish }

  public var event: Kind
  public var trial: Int?
  /// Unix time in seconds.
  public var time: Double
  // study
  public var pipeline: String?
  public var space: String?
  public var objectives: [String]?
  public var sampler: String?
  public var seed: UInt64?
  // start
  public var unit: [Double]?
  public var params: [String: JournalValue]?
  public var host: String?
  public var pid: Int32?
  // report and finish
  public var budget: Int?
  public var metrics: [String: Double]?
  public var state: TrialState?
  public var error: String?
  public var seconds: Double?

  public init(event: Kind, trial: Int? = nil, time: Double = Date().timeIntervalSince1970) {
    self.event = event
    self.trial = trial
    self.time = time
  }
}

/// How a trial ended, or that it still runs.
public enum TrialState: String, Codable, Sendable {
  case running, complete, pruned, failed
}

/// A parameter value as JSON (numbers, text, flags, lists), so journals read well in other tools.
public enum JournalValue: Codable, Sendable, Equatable, CustomStringConvertible {
  case int(Int)
  case float(Double)
  case bool(Bool)
  case string(String)
  case list([JournalValue])

  public init(_ value: ParameterValue) {
    switch value {
    case .int(let v): self = .int(v)
    case .float(let v): self = .float(v)
    case .bool(let v): self = .bool(v)
    case .string(let v): self = .string(v)
    case .list(let items): self = .list(items.map(JournalValue.init))
    case .map: self = .string(value.description)
    }
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if let v = try? c.decode(Int.self) {
      self = .int(v)
    } else if let v = try? c.decode(Double.self) {
      self = .float(v)
    } else if let v = try? c.decode(Bool.self) {
      self = .bool(v)
    } else if let v = try? c.decode(String.self) {
      self = .string(v)
    } else {
      self = .list(try c.decode([JournalValue].self))
    }
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    switch self {
    case .int(let v): try c.encode(v)
    case .float(let v): try c.encode(v)
    case .bool(let v): try c.encode(v)
    case .string(let v): try c.encode(v)
    case .list(let v): try c.encode(v)
    }
  }

  public var description: String {
    switch self {
    case .int(let v): return "\(v)"
    case .float(let v): return "\(v)"
    case .bool(let v): return "\(v)"
    case .string(let v): return v
    case .list(let v): return "[" + v.map(\.description).joined(separator: ", ") + "]"
    }
  }
}
