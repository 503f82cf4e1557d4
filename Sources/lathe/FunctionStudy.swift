import Foundation
import LatheCompress
import LatheSearch
import LatheWorkspace

/// `lathe search --function NAME`: a study of a test function instead of a pipeline, over
/// `x0`…`x{d-1}` in [0, 1] (minimize `value`; ZDT1 minimizes `f1` and `f2`). Each trial can
/// sleep a while, standing in for training: how the storage and many-worker tests and figures
/// exercise studies without training models.
enum FunctionStudy {
  static func searchable(_ name: String) -> SearchablePipeline {
    let function = TestFunction.named[name]!
    var settings = StudySettings()
    settings.objectives = metrics(function).map { Objective(.minimize, $0) }
    let space = SearchSpace(
      (0..<function.dimensions).map { SearchDimension(name: "x\($0)", kind: .float(low: 0, high: 1, log: false)) })
    return SearchablePipeline(
      spec: PipelineSpec(name: name, model: nil, dataset: nil, steps: []), space: space, settings: settings)
  }

  /// Early stopping's budget for `--pruner`: rungs 1, 3 and 9. A trial's value at budget b is
  /// f(x)·(1 + 1/b), so early rungs rank trials as the last does, as a learning curve would.
  static let budget = BudgetSetting(step: "function", scale: [], min: 1, max: 9, eta: 3)

  static func metrics(_ function: TestFunction) -> [String] { function.objectives == 1 ? ["value"] : ["f1", "f2"] }

  static func runner(
    _ name: String, searchable: SearchablePipeline, storage: any StudyStorage, jobs: Int, seconds: Double,
    staleAfter: Double?, onUpdate: @escaping @Sendable (Study, String) -> Void
  ) -> StudyRunner {
    let function = TestFunction.named[name]!
    let names = metrics(function)
    let executor = ClosureExecutor { request in
      if seconds > 0 { Thread.sleep(forTimeInterval: seconds) }
      let point = (0..<function.dimensions).map { request.values["x\($0)"]?.number ?? 0.5 }
      let scale = request.budget.map { 1 + 1 / Double($0) } ?? 1
      return Dictionary(uniqueKeysWithValues: zip(names, function.evaluate(point).map { $0 * scale }))
    }
    let settings = searchable.settings
    return StudyRunner(
      configuration: .init(
        space: searchable.space, settings: settings, sampler: Samplers.named(settings.samplerName)!,
        trials: settings.trials, jobs: jobs, pipelineName: searchable.spec.name, staleAfter: staleAfter),
      storage: storage, executor: executor, onUpdate: onUpdate)
  }
}
