import Foundation
import LatheSearch
import LatheStudyStore

/// A study of a searchable pipeline put together: its storage, its trials folder, the worker
/// processes that run the trials, and the runner that drives them. `lathe search` and the
/// workbench's Search screen both start studies here.
public struct StudySetup {
  public let searchable: SearchablePipeline
  public let storage: any StudyStorage
  /// One folder per trial, each with its pipeline, log and final model.
  public let trialsFolder: URL
  public let jobs: Int
  public let executor: ProcessTrialExecutor
  public let runner: StudyRunner

  /// `jobs` trials run at once, each with `cores / jobs` threads so they share the cores
  /// instead of fighting; `binary` is the `lathe` the trials run in.
  public init(
    _ searchable: SearchablePipeline, storage: any StudyStorage, trialsFolder: URL, jobs: Int, binary: URL,
    staleAfter: Double? = nil, onUpdate: @escaping @Sendable (Study, String) -> Void
  ) {
    self.searchable = searchable
    self.storage = storage
    self.trialsFolder = trialsFolder
    self.jobs = max(jobs, 1)
    let settings = searchable.settings
    let cores = ProcessInfo.processInfo.activeProcessorCount
    executor = ProcessTrialExecutor(
      pipeline: searchable, binary: binary, directory: trialsFolder, latencySeconds: settings.latencySeconds,
      threads: max(cores / self.jobs, 1))
    runner = StudyRunner(
      configuration: .init(
        space: searchable.space, settings: settings, sampler: Samplers.named(settings.samplerName)!,
        trials: settings.trials, jobs: self.jobs, pipelineName: searchable.spec.name, staleAfter: staleAfter),
      storage: storage, executor: executor, onUpdate: onUpdate)
  }

  /// Opens the study of `searchable` at `location` (named after the pipeline).
  public static func openStorage(
    _ searchable: SearchablePipeline, at location: StudyLocation, heartbeatInterval: Double? = 10
  ) throws -> any StudyStorage {
    try location.open(
      studyName: searchable.spec.name, space: searchable.space,
      objectiveMetrics: searchable.settings.objectives.map(\.metric), heartbeatInterval: heartbeatInterval)
  }

  /// `NAME.study.trials` beside a study file; in the working folder for a server's study.
  public static func trialsFolder(for location: StudyLocation, studyName: String) -> URL {
    switch location {
    case .sqlite(let path), .journal(let path):
      return URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(
        "\(studyName).study.trials")
    case .postgresql:
      return URL(fileURLWithPath: "\(studyName).study.trials")
    }
  }
}
