import Foundation
import LatheCompress
import LatheSearch

/// A pipeline file with search ranges in it: the file as written, its space and its study
/// settings. A trial is the same pipeline with one concrete value put in place of each range.
public struct SearchablePipeline: Sendable {
  public var spec: PipelineSpec
  public var space: SearchSpace
  public var settings: StudySettings

  public init(spec: PipelineSpec, space: SearchSpace, settings: StudySettings) {
    self.spec = spec
    self.space = space
    self.settings = settings
  }

  /// Reads ranges and the `search:` section; errors name the file, line and key.
  public init(_ spec: PipelineSpec, layers: () throws -> [String] = { [] }) throws {
    let file = spec.file?.path ?? spec.name
    self.spec = spec
    space = try SearchSpace.parse(spec, file: file, layers: layers)
    settings = try StudySettings.parse(spec.search, file: file)
    if let budget = settings.budget {
      let line = spec.search?.keyLines["budget"] ?? spec.search?.line ?? 0
      guard let step = spec.steps.first(where: { $0.name == budget.step }) else {
        throw PipelineError(
          file: file, line: line, key: "search.budget",
          message: "no step \"\(budget.step)\"; steps: \(spec.steps.map(\.name).joined(separator: ", "))")
      }
      for (key, _) in budget.scale where space.dimensions.contains(where: { $0.step == step.name && $0.key == key }) {
        throw PipelineError(
          file: file, line: line, key: "search.budget", message: "\(step.name).\(key) is both searched and the budget")
      }
    }
    if space.dimensions.isEmpty {
      throw PipelineError(
        file: file, line: 1, key: "steps",
        message: "nothing to search: write a range as a setting, e.g. lr: {search: float, low: 0.001, high: 0.1}")
    }
  }

  /// The concrete pipeline for `values` (by dimension name), at `budget` when early stopping
  /// hands out budgets; `search:` is dropped, so `lathe run` takes it as it is.
  public func pipeline(for values: [String: JournalValue], budget: Int? = nil, name: String? = nil) -> PipelineSpec {
    var result = spec
    result.search = nil
    if let name { result.name = name }
    for (index, step) in result.steps.enumerated() {
      var parameters = step.parameters
      for (p, entry) in parameters.enumerated() {
        let dims = space.dimensions.filter { $0.step == step.name && $0.key == entry.key }
        guard !dims.isEmpty else { continue }
        if dims.count == 1, dims[0].layer == nil {
          parameters[p].value = values[dims[0].name].map(ParameterValue.init) ?? entry.value
        } else {
          parameters[p].value = .map(
            dims.map { ($0.layer ?? $0.name, values[$0.name].map(ParameterValue.init) ?? .float(0)) })
        }
      }
      if let budget, let setting = settings.budget, setting.step == step.name {
        for (key, factor) in setting.scale {
          let v = ParameterValue.int(max(Int((Double(budget) * factor).rounded()), 1))
          if let p = parameters.firstIndex(where: { $0.key == key }) {
            parameters[p].value = v
          } else {
            parameters.append((key, v))
          }
        }
      }
      result.steps[index].parameters = parameters
    }
    if let model = result.model, let base = spec.file?.deletingLastPathComponent() {
      let local = base.appendingPathComponent(model)
      if !model.hasPrefix("/"), FileManager.default.fileExists(atPath: local.path) { result.model = local.path }
    }
    return result
  }

  /// The budget a trial runs at when nothing is stopped early (the largest), or nil without one.
  public var fullBudget: Int? { settings.budget?.max }
}
