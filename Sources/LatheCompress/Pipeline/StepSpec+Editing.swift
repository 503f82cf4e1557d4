/// What the workbench's step editor does to a step: add one with the defaults, change a setting.
extension StepSpec {
  /// Sets `key` to `value` in its place among the settings (new keys go last); nil removes
  /// the setting, so the technique's default applies.
  public mutating func set(_ key: String, to value: ParameterValue?) {
    let index = parameters.firstIndex { $0.key == key }
    switch (index, value) {
    case (let index?, let value?): parameters[index].value = value
    case (let index?, nil): parameters.remove(at: index)
    case (nil, let value?): parameters.append((key, value))
    case (nil, nil): break
    }
  }
}

extension TechniqueDescriptor {
  /// A step of this technique with every parameter that has a default written out, in the
  /// descriptor's order, so the editor's form and a saved file show what the step will use.
  public func defaultStep(name stepName: String? = nil) -> StepSpec {
    StepSpec(
      name: stepName ?? name, technique: name,
      parameters: parameters.compactMap { p in p.defaultValue.map { (p.key, $0) } })
  }
}

extension TechniqueDescriptor {
  /// Whether two steps of this technique do the same thing: the same name and the same value
  /// for every setting once the defaults are filled in, whatever the settings' order and however
  /// a number is written. The step editor writes out a default it showed once the user opened the
  /// field, and a float field typed as `1` reads back as `1.0`; neither may make a step that
  /// already ran run again (`PipelineRunner.replaceSteps`).
  public func runsTheSame(_ a: StepSpec, as b: StepSpec) -> Bool {
    guard a.name == b.name, a.technique == name, b.technique == name else { return false }
    let keys = Set(parameters.map(\.key) + a.parameters.map(\.key) + b.parameters.map(\.key))
    return keys.allSatisfy { key in
      switch (effectiveValue(of: key, in: a), effectiveValue(of: key, in: b)) {
      case (nil, nil): return true
      case (let x?, let y?): return x.isSameValue(as: y)
      default: return false
      }
    }
  }

  /// The value `step` runs with for `key`: its own, else the default (`from` defaults to the
  /// step before, `previous`).
  private func effectiveValue(of key: String, in step: StepSpec) -> ParameterValue? {
    if let own = step[key] { return own }
    if key == StepSpec.startKey { return .string("previous") }
    return parameters.first { $0.key == key }?.defaultValue
  }
}

extension ParameterValue {
  /// Equal as settings: numbers by value (`1` is `1.0`), maps whatever their keys' order.
  func isSameValue(as other: ParameterValue) -> Bool {
    switch (self, other) {
    case (.list(let a), .list(let b)):
      return a.count == b.count && zip(a, b).allSatisfy { $0.isSameValue(as: $1) }
    case (.map(let a), .map(let b)):
      guard a.count == b.count else { return false }
      return a.allSatisfy { pair in b.first { $0.key == pair.key }.map { $0.value.isSameValue(as: pair.value) } ?? false
      }
    default:
      if let x = number, let y = other.number { return x == y }
      return self == other
    }
  }
}
