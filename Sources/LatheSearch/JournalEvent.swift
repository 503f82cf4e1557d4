import Foundation

/// One line of a study journal. A trial writes `start` when a worker takes it, `report` after
/// each early-stopping rung it passes, and `finish` once (complete, pruned or failed). The first
/// line of a journal is a `study` event naming the space, so a different pipeline cannot resume it.
/// A database (`StudyStorage`) keeps rows instead and gives them back as these events, adding
/// `heartbeat` events: when a running trial's worker last said it was alive.
public struct JournalEvent: Codable, Sendable, Equatable {
  public enum Kind: String, Codable, Sendable { case study, start, report, finish, heartbeat }

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
  /// The best trial's pipeline (YAML), written when a search ends: what a person opening the
  /// study elsewhere (optuna-dashboard's user attributes) needs to run the result.
  public var bestPipeline: String?
  // start
  public var unit: [Double]?
  public var params: [String: JournalValue]?
  public var host: String?
  public var pid: Int32?
  /// The failed trial this one runs again (its worker was lost), with the same values.
  public var retryOf: Int?
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

extension JournalEvent {
  /// Trial numbers past this are not from any study Lathe runs (its trial limit, with room).
  static let maxTrial = StudySettings.Limits.trials * 10
  static let maxDimensions = 100_000

  /// What makes a decoded event unusable, or nil. Trial numbers index arrays and unit points
  /// feed samplers, so out-of-range values must stop here rather than trap later.
  public var problem: String? {
    if let trial, !(0...Self.maxTrial).contains(trial) {
      return "trial: expected a number in 0...\(Self.maxTrial), got \(trial)"
    }
    if let retryOf, !(0...Self.maxTrial).contains(retryOf) {
      return "retryOf: expected a trial number in 0...\(Self.maxTrial), got \(retryOf)"
    }
    if event != .study, trial == nil { return "trial: missing for a \(event.rawValue) event" }
    guard time.isFinite else { return "time: expected a finite number, got \(time)" }
    if let unit {
      if unit.count > Self.maxDimensions { return "unit: \(unit.count) values; the limit is \(Self.maxDimensions)" }
      if let bad = unit.first(where: { !(0...1).contains($0) }) {
        return "unit: expected values in 0...1, got \(bad)"
      }
    }
    if let budget, !(0...StudySettings.Limits.budget).contains(budget) {
      return "budget: expected a number in 0...\(StudySettings.Limits.budget), got \(budget)"
    }
    if let seconds, !seconds.isFinite { return "seconds: expected a finite number, got \(seconds)" }
    return nil
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

  /// As a person writes it: lists in brackets, text bare (the pipeline file's `ParameterValue`
  /// reads the same; LatheSearch cannot see that type, nor should it).
  public var description: String {
    switch self {
    case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
    case .string(let text): return text
    case .int(let number): return String(number)
    case .float(let number): return String(number)
    case .bool(let flag): return String(flag)
    }
  }
}
