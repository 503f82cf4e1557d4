import LatheTensor

/// Class indices a step names. They can only be checked against the data the step meets (how
/// many classes it has), so the selection keeps the value as given and where it was written.
public struct ClassSelection: Sendable {
  let value: ParameterValue?
  let key: String
  let source: SettingSource

  /// Classes given in code.
  public init(_ classes: [Int], key: String = "classes", source: SettingSource = .code("classes")) {
    self.init(value: .list(classes.map { .int($0) }), key: key, source: source)
  }

  /// The classes setting `key` of a step.
  init(_ p: StepParameters, _ key: String) { self.init(value: p.value(key), key: key, source: p.source) }

  private init(value: ParameterValue?, key: String, source: SettingSource) {
    self.value = value
    self.key = key
    self.source = source
  }

  /// The class indices, each in 0..<limit and listed once; at least one.
  func resolve(below limit: Int) throws -> [Int] {
    guard case .list(let items) = value else { throw source.error(key, "expected a list of class indices") }
    var result: [Int] = []
    for item in items {
      guard case .int(let c) = item, (0..<limit).contains(c) else {
        throw source.error(key, "expected class indices in 0..<\(limit), got \(item)")
      }
      guard !result.contains(c) else { throw source.error(key, "class \(c) is listed twice") }
      result.append(c)
    }
    guard !result.isEmpty else { throw source.error(key, "needs at least one class") }
    return result
  }
}
