import Foundation
import LatheCompress
import LatheIO
import LatheSearch
import LatheWorkspace

/// The Search screen's commands on the real engine: a `WorkbenchStudy` whose trials are
/// `lathe run` processes of `workerBinary`, its states copied into `current.search`.
extension EngineSession {
  /// Pipelines with a `search:` section: those beside the open pipeline file, then the bundled ones.
  public var searchPipelines: [String] {
    var found: [String] = []
    let bundled = SamplesDirectory.locate()?.appendingPathComponent("pipelines").standardizedFileURL
    if let open = sources.pipeline, let file = try? WorkspaceSources.pipelineFile(open) {
      let folder = file.deletingLastPathComponent().standardizedFileURL
      if folder != bundled { found += Self.searchFiles(in: folder).map(\.path) }
    }
    if let bundled {
      found += Self.searchFiles(in: bundled).map { $0.deletingPathExtension().lastPathComponent }
    }
    return found
  }

  /// The `.yaml` files in `folder` that have a `search:` section, by name.
  static func searchFiles(in folder: URL) -> [URL] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter { $0.hasSuffix(".yaml") }.sorted().map { folder.appendingPathComponent($0) }
      .filter { (try? PipelineSpec.read(from: $0))?.search != nil }
  }

  public func startSearch(_ request: SearchRequest) throws {
    if lock.withLock({ current.search?.isRunning == true }) {
      throw SessionError("a study is running; c cancels it")
    }
    let file = try WorkspaceSources.pipelineFile(request.pipeline)
    let directory = lock.withLock { subfolder("search") }
    let study = try WorkbenchStudy(
      request: request, pipelineFile: file, binary: workerBinary, directory: directory,
      onChange: { [weak self] state in self?.searchChanged(state) })
    lock.withLock {
      self.study = study
      current.search = study.initialState
      log(
        .info,
        "searching \(study.searchable.spec.name): \(request.trials) trials, \(request.jobs) at once; "
          + "study \(study.studyFile.path) (optuna-dashboard sqlite:///\(study.studyFile.path))")
    }
    study.start()
  }

  /// A new state from the study's thread; states of an earlier study are dropped.
  private func searchChanged(_ state: SearchState) {
    lock.withLock {
      guard current.search?.storage == state.storage else { return }
      let previous = current.search
      current.search = state
      current.revision += 1
      if let newest = state.trials.first(where: { trial in
        trial.state != .running && previous?.trials.first { $0.number == trial.number }?.state == .running
      }) {
        log(newest.state == .failed ? .warning : .info, Self.trialLine(newest))
      }
      guard !state.isRunning else { return }
      if let error = state.error {
        log(.error, "search stopped: \(error)")
      } else {
        let best = state.front.first.map { ", best trial \($0)" } ?? ""
        log(.info, "search ended: \(state.finishedCount) of \(state.totalTrials) trials finished\(best)")
      }
    }
  }

  static func trialLine(_ trial: SearchTrial) -> String {
    var parts = ["trial \(trial.number) \(trial.state.rawValue)"]
    if let accuracy = trial.accuracy { parts.append(String(format: "acc %.2f%%", accuracy * 100)) }
    if let size = trial.sizeBytes { parts.append(ByteCount.format(size)) }
    if let error = trial.error { parts.append(error) }
    return parts.joined(separator: ", ")
  }

  public func cancelSearch() {
    let running: WorkbenchStudy? = lock.withLock {
      guard current.search?.isRunning == true else { return nil }
      log(.info, "stopping the search: no new trials; running ones finish")
      return study
    }
    running?.stop()
  }

  public func loadTrial(_ number: Int) throws {
    guard let study = lock.withLock({ study }) else { throw SessionError("no study has run yet") }
    guard !state.isBusy else { throw SessionError("wait for the running step to finish (or cancel it with c)") }
    let files = try study.trialFiles(number)
    lock.withLock { log(.info, "trial \(number): its pipeline is \(files.pipeline.path)") }
    // The model the trial made, with the pipeline that made it (its steps show as pending).
    try load(
      model: files.model.path, dataset: study.searchable.spec.dataset, pipeline: files.pipeline.path,
      name: "\(study.searchable.spec.name) trial \(number)")
  }
}
