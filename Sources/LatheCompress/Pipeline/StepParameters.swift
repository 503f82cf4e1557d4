import LatheTensor

/// A step's settings checked against its technique's descriptor: typed getters that fall back
/// to defaults and throw errors naming the file, line and key.
public struct StepParameters: Sendable {
  public let step: StepSpec
  public let file: String
  public let descriptor: TechniqueDescriptor

  /// Rejects keys the technique does not know, listing the ones it does.
  public init(step: StepSpec, file: String, descriptor: TechniqueDescriptor) throws {
    self.step = step
    self.file = file
    self.descriptor = descriptor
    let known = Set(descriptor.parameters.map(\.key) + [StepSpec.startKey])
    if let start = step[StepSpec.startKey], case .string = start {
    } else if let start = step[StepSpec.startKey] {
      throw error(StepSpec.startKey, "expected input, previous or an earlier step's name, got \(start)")
    }
    for (key, _) in step.parameters where !known.contains(key) {
      throw error(
        key,
        "unknown setting for \(descriptor.name); known: \(descriptor.parameters.map(\.key).joined(separator: ", "))")
    }
    for parameter in descriptor.parameters { _ = try check(parameter) }
  }

  func error(_ key: String, _ message: String) -> PipelineError {
    PipelineError(file: file, line: step.parameterLines[key] ?? step.line, key: key, message: message)
  }

  private func descriptorFor(_ key: String) -> ParameterDescriptor {
    guard let d = descriptor.parameters.first(where: { $0.key == key }) else {
      preconditionFailure("\(descriptor.name) reads undeclared setting \(key)")
    }
    return d
  }

  /// The value given in the file, or the default.
  public func value(_ key: String) -> ParameterValue? { step[key] ?? descriptorFor(key).defaultValue }

  public func isSet(_ key: String) -> Bool { step[key] != nil }

  /// Validates one setting against its kind and range.
  private func check(_ d: ParameterDescriptor) throws -> ParameterValue? {
    guard let v = value(d.key) else { return nil }
    if case .map(let pairs) = v, pairs.contains(where: { $0.key == "search" }) {
      throw error(d.key, "a search range, not a value: run this pipeline with lathe search")
    }
    switch d.kind {
    case .int(let range):
      guard case .int(let i) = v else { throw error(d.key, "expected an integer, got \(v)") }
      guard range.contains(i) else { throw error(d.key, "\(i) is outside \(range.lowerBound)...\(range.upperBound)") }
    case .float(let range):
      guard let f = number(v) else { throw error(d.key, "expected a number, got \(v)") }
      guard range.contains(f) else { throw error(d.key, "\(f) is outside \(range.lowerBound)...\(range.upperBound)") }
    case .perLayerFloat(let range):
      for (layer, item) in entries(v) {
        guard let f = number(item) else {
          throw error(d.key, "expected a number\(layer.map { " for \($0)" } ?? ""), got \(item)")
        }
        guard range.contains(f) else { throw error(d.key, "\(f) is outside \(range.lowerBound)...\(range.upperBound)") }
      }
    case .perLayerInt(let range):
      for (layer, item) in entries(v) {
        guard case .int(let i) = item else {
          throw error(d.key, "expected an integer\(layer.map { " for \($0)" } ?? ""), got \(item)")
        }
        guard range.contains(i) else { throw error(d.key, "\(i) is outside \(range.lowerBound)...\(range.upperBound)") }
      }
    case .choice(let options):
      guard case .string(let s) = v, options.contains(s) else {
        throw error(d.key, "expected one of \(options.joined(separator: ", ")), got \(v)")
      }
    case .bool:
      guard case .bool = v else { throw error(d.key, "expected true or false, got \(v)") }
    case .text:
      guard case .string = v else { throw error(d.key, "expected text, got \(v)") }
    case .list:
      guard case .list = v else { throw error(d.key, "expected a list, got \(v)") }
    }
    return v
  }

  private func number(_ v: ParameterValue) -> Double? {
    switch v {
    case .int(let i): return Double(i)
    case .float(let f): return f
    default: return nil
    }
  }

  private func entries(_ v: ParameterValue) -> [(String?, ParameterValue)] {
    if case .map(let pairs) = v { return pairs.map { ($0.key, $0.value) } }
    return [(nil, v)]
  }

  public func int(_ key: String) -> Int {
    if case .int(let i) = value(key) { return i }
    preconditionFailure("\(key) has no integer default")
  }

  public func optionalInt(_ key: String) -> Int? {
    if case .int(let i) = value(key) { return i }
    return nil
  }

  public func double(_ key: String) -> Double {
    guard let v = value(key), let f = number(v) else { preconditionFailure("\(key) has no numeric default") }
    return f
  }

  public func optionalDouble(_ key: String) -> Double? { value(key).flatMap(number) }

  public func float(_ key: String) -> Float { Float(double(key)) }

  public func bool(_ key: String) -> Bool {
    if case .bool(let b) = value(key) { return b }
    return false
  }

  public func string(_ key: String) -> String {
    if case .string(let s) = value(key) { return s }
    return value(key)?.description ?? ""
  }

  public func optionalString(_ key: String) -> String? {
    if case .string(let s) = value(key) { return s }
    return nil
  }

  public func strings(_ key: String) -> [String] {
    switch value(key) {
    case .list(let items): return items.map(\.description)
    case .string(let s): return [s]
    default: return []
    }
  }

  public func doubles(_ key: String) -> [Double] {
    if case .list(let items) = value(key) { return items.compactMap(number) }
    return []
  }

  /// A per-layer setting: one value for all layers, or a map (layers missing from it get nil).
  public func perLayerDouble(_ key: String) -> PerLayer<Double>? {
    switch value(key) {
    case .map(let pairs):
      return .each(Dictionary(pairs.compactMap { p in number(p.value).map { (p.key, $0) } }) { a, _ in a })
    case .some(let v): return number(v).map { .all($0) }
    case nil: return nil
    }
  }

  public func perLayerInt(_ key: String) -> PerLayer<Int>? {
    switch value(key) {
    case .map(let pairs):
      return .each(
        Dictionary(
          pairs.compactMap { p in
            if case .int(let i) = p.value { return (p.key, i) }
            return nil
          }
        ) { a, _ in a })
    case .int(let i): return .all(i)
    default: return nil
    }
  }
}
