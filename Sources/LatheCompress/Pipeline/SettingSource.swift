/// Where a configuration's settings were written: the pipeline file, the step and the line of
/// each key. Some settings can only be checked once the step meets its model (a layer name the
/// model lacks); their errors still name the file, line and key. A configuration built in code
/// comes from `code(_:)` and its errors name the technique instead.
public struct SettingSource: Sendable, Equatable {
  /// The step's name (the technique's name for a configuration built in code).
  public var stepName: String
  var file: String
  var stepLine: Int
  var keyLines: [String: Int]

  /// Settings given in code, for the technique called `technique`.
  public static func code(_ technique: String) -> SettingSource {
    SettingSource(stepName: technique, file: technique, stepLine: 0, keyLines: [:])
  }

  /// An error about setting `key`, at its line when it came from a file.
  public func error(_ key: String, _ message: String) -> PipelineError {
    PipelineError(file: file, line: keyLines[key] ?? stepLine, key: key, message: message)
  }

  /// Resolves a per-layer setting over the layers a step can change (see `PerLayer.resolved`),
  /// throwing when a key of its map selects none of them.
  public func resolveLayers<T>(_ key: String, _ values: PerLayer<T>?, allowed: [String]) throws -> PerLayer<T>? {
    guard let values else { return nil }
    do {
      return try values.resolved(over: allowed)
    } catch let unmatched as PerLayer<T>.Unmatched {
      throw StepFailure(
        error(
          key,
          "no layer \"\(unmatched.key)\" this step can change (keys are layer names, glob patterns such as \"conv*\", "
            + "or \"last\"); layers: \(allowed.joined(separator: ", "))"
        ).description)
    }
  }

  /// Checks that every layer named is one of `candidates`; `kind` says what they are
  /// ("quantizable layer", "Linear layer").
  func checkChosen(_ chosen: [String], among candidates: [String], kind: String, key: String = "layers") throws {
    for name in chosen where !candidates.contains(name) {
      throw StepFailure(
        error(key, "no \(kind) \"\(name)\"; layers: \(candidates.joined(separator: ", "))").description)
    }
  }
}

extension StepParameters {
  /// Where these settings were written, for errors found when the step runs.
  public var source: SettingSource {
    SettingSource(stepName: step.name, file: file, stepLine: step.line, keyLines: step.parameterLines)
  }
}
