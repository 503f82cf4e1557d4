import Foundation
import LatheSearch

/// A study of a searchable pipeline put together: its journal, its trials folder, the worker
/// processes that run the trials, and the runner that drives them. `lathe search` and the
/// workbench's Search screen both start studies here.
public struct StudySetup {
  public let searchable: SearchablePipeline
  public let journalURL: URL
  /// `NAME.study.trials` beside the journal: one folder per trial.
  public let trialsFolder: URL
  public let jobs: Int
  public let executor: ProcessTrialExecutor
  public let runner: StudyRunner

  /// `jobs` trials run at once, each with `cores / jobs` threads so they share the cores
  /// instead of fighting; `binary` is the `lathe` the trials run in.
  public init(
    _ searchable: SearchablePipeline, journal: URL, jobs: Int, binary: URL, staleAfter: Double? = nil,
    onUpdate: @escaping @Sendable (Study, String) -> Void
  ) {
    self.searchable = searchable
    journalURL = journal
    trialsFolder = journal.deletingPathExtension().appendingPathExtension("trials")
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
      journal: StudyJournal(url: journal), executor: executor, onUpdate: onUpdate)
  }
}
