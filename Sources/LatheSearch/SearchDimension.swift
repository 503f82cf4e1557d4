import Foundation

/// One searched value: a setting of one step (and one layer, for per-layer settings), with the
/// range it is drawn from. Samplers see every dimension as [0, 1]; `value(at:)` maps back.
public struct SearchDimension: Sendable, Equatable {
  public enum Kind: Sendable, Equatable {
    case float(low: Double, high: Double, log: Bool)
    case int(low: Int, high: Int, log: Bool)
    case choice([JournalValue])
  }

  /// `step.key` or `step.key.layer`: how trials, the journal and reports name it.
  public var name: String
  public var step: String
  public var key: String
  public var layer: String?
  public var kind: Kind
  /// Line of the setting in the pipeline file (0 when built in code).
  public var line: Int

  public init(step: String, key: String, layer: String? = nil, kind: Kind, line: Int = 0) {
    self.name = [step, key, layer].compactMap { $0 }.joined(separator: ".")
    self.step = step
    self.key = key
    self.layer = layer
    self.kind = kind
    self.line = line
  }

  /// A dimension of a plain function (benchmarks, tests): no step.
  public init(name: String, kind: Kind) {
    self.name = name
    self.step = ""
    self.key = name
    self.layer = nil
    self.kind = kind
    self.line = 0
  }

  /// What a sampler needs to know about the dimension's shape.
  public var unitKind: UnitDimension {
    switch kind {
    case .float: return .continuous
    case .int(let low, let high, _): return .ordered(high - low + 1)
    case .choice(let values): return .categorical(values.count)
    }
  }

  /// The concrete value at `u` in [0, 1].
  public func value(at u: Double) -> JournalValue {
    let u = UnitDimension.clamped(u)
    switch kind {
    case .float(let low, let high, let log):
      let v =
        log
        ? Foundation.exp(Foundation.log(low) + u * (Foundation.log(high) - Foundation.log(low)))
        : low + u * (high - low)
      return .float(Self.rounded(min(max(v, low), high)))
    case .int(let low, let high, let log):
      if log {
        let v = Foundation.exp(
          Foundation.log(Double(low)) + u * (Foundation.log(Double(high)) - Foundation.log(Double(low))))
        return .int(min(max(Int(v.rounded()), low), high))
      }
      let count = high - low + 1
      return .int(low + min(Int(u * Double(count)), count - 1))
    case .choice(let values):
      return values[min(Int(u * Double(values.count)), values.count - 1)]
    }
  }

  /// Where `value` sits in [0, 1] (the middle of its bin for ints and choices), or nil if it is outside the range.
  public func unit(of value: JournalValue) -> Double? {
    switch kind {
    case .float(let low, let high, let log):
      guard let v = value.number, v >= low, v <= high else { return nil }
      if high == low { return 0.5 }
      return log
        ? (Foundation.log(v) - Foundation.log(low)) / (Foundation.log(high) - Foundation.log(low))
        : (v - low) / (high - low)
    case .int(let low, let high, let log):
      guard case .int(let v) = value, v >= low, v <= high else { return nil }
      if log {
        return high == low
          ? 0.5
          : (Foundation.log(Double(v)) - Foundation.log(Double(low)))
            / (Foundation.log(Double(high)) - Foundation.log(Double(low)))
      }
      return (Double(v - low) + 0.5) / Double(high - low + 1)
    case .choice(let values):
      guard let i = values.firstIndex(of: value) else { return nil }
      return (Double(i) + 0.5) / Double(values.count)
    }
  }

  /// Six significant digits: what a person would write, and what the trial file shows.
  static func rounded(_ v: Double) -> Double {
    guard v != 0, v.isFinite else { return v }
    let scale = Foundation.pow(10, 5 - Foundation.floor(Foundation.log10(Swift.abs(v))))
    return (v * scale).rounded() / scale
  }
}

/// A dimension as samplers see it: continuous, ordered with `n` values, or `n` unordered choices.
public enum UnitDimension: Sendable, Equatable {
  case continuous
  case ordered(Int)
  case categorical(Int)

  public var isCategorical: Bool {
    if case .categorical = self { return true }
    return false
  }

  /// `u` inside [0, 1]. NaN passes through min and max unchanged and would trap in Int(), so a
  /// sampler's NaN (or a damaged journal's) becomes the middle.
  static func clamped(_ u: Double) -> Double { u.isNaN ? 0.5 : min(max(u, 0), 1) }

  /// Snaps `u` to the middle of its bin (ordered and categorical), so equal values compare equal.
  public func snap(_ u: Double) -> Double {
    let u = Self.clamped(u)
    switch self {
    case .continuous: return u
    case .ordered(let n), .categorical(let n):
      return (Double(min(Int(u * Double(n)), n - 1)) + 0.5) / Double(n)
    }
  }
}

extension JournalValue {
  /// The value as a number, when it is an int or a float.
  public var number: Double? {
    switch self {
    case .int(let i): return Double(i)
    case .float(let f): return f
    default: return nil
    }
  }
}
