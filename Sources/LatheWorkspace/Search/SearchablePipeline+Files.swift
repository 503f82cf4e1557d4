import Foundation
import LatheCompress
import LatheIO
import LatheSearch

extension SearchablePipeline {
  /// Reads a pipeline file to search; per-layer ranges take the layers its model can prune.
  public static func read(from url: URL) throws -> SearchablePipeline {
    let spec = try PipelineSpec.read(from: url)
    let folder = spec.file?.deletingLastPathComponent()
    return try SearchablePipeline(spec) {
      guard let model = spec.model else {
        throw PipelineError(file: url.path, line: 1, key: "model", message: "\(spec.name) names no model")
      }
      return MagnitudePruning.prunableWeights(of: try ModelOpener.open(model, relativeTo: folder)).map(\.layer)
    }
  }

  /// Writes a trial's pipeline (its values at the full budget, no ranges, no `search:`) to `url`,
  /// as `lathe search` writes the best one: ready for `lathe run` and the workbench.
  public func writePipeline(of trial: TrialRecord, named name: String, study: String, to url: URL) throws {
    var concrete = pipeline(for: space.values(at: trial.unit), budget: fullBudget, name: name)
    concrete.summary = "Trial \(trial.number) of the study in \(study)."
    try AtomicFile.write(
      "# Found by lathe search (trial \(trial.number)); run it with: lathe run \(url.lastPathComponent)\n"
        + concrete.yaml(), to: url)
  }
}

extension ProcessTrialExecutor {
  /// The running binary, for worker processes: /proc/self/exe where there is one. Only right
  /// when the running binary is `lathe` (the CLI, the workbench), not a test runner.
  public static func runningBinary() -> URL {
    if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      return URL(fileURLWithPath: path)
    }
    let argument = CommandLine.arguments[0]
    if argument.contains("/") { return URL(fileURLWithPath: argument).standardizedFileURL }
    return URL(fileURLWithPath: "/usr/bin/env").deletingLastPathComponent().appendingPathComponent(argument)
  }
}
