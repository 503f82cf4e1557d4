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
