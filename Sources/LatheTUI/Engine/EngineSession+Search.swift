import Foundation
import LatheCompress
import LatheIO
import LatheSearch
import LatheStudyStore
import LatheWorkspace

/// The Search screen's commands on the real engine: a `WorkbenchStudy` whose trials are
/// `lathe run` processes of `workerBinary`, or a `StudyWatcher` reading a study that runs
/// elsewhere; their states are copied into `current.search`.
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
    // A study watched before gives way: the screen shows one study.
    lock.withLock { watcher }?.stop()
    lock.withLock {
      self.study = study
      current.search = study.initialState
      log(
        .info,
        "searching \(study.searchable.spec.name): \(Wording.count(request.trials, "trial")), \(request.jobs) at once; "
          + "study \(study.studyFile.path) (optuna-dashboard sqlite:///\(study.studyFile.path))")
    }
    study.start()
  }

  /// Shows the study `url` (see `StudyLocation`) on the Search screen, read about once every
  /// `interval` seconds on a thread of its own: trials from every worker and machine as they
  /// run. `pipeline` is the search pipeline that made the study (its space, objectives and
  /// constraints); the study is found by `studyName`, the pipeline's name unless told.
  /// Throws for a URL or pipeline that cannot be read; a study that is not there (yet) or
  /// does not fit the pipeline shows as the screen's error instead, while reading goes on.
  public func watchStudy(_ url: String, studyName: String? = nil, pipeline: String, interval: Double = 1) throws {
    let location = try StudyLocation(url)
    let searchable = try SearchablePipeline.read(from: try WorkspaceSources.pipelineFile(pipeline))
    let watcher = StudyWatcher(
      location: location, studyName: studyName ?? searchable.spec.name, searchable: searchable, interval: interval,
      onChange: { [weak self] state in self?.searchChanged(state) })
    let earlier: StudyWatcher? = try lock.withLock {
      if current.search?.isRunning == true, current.search?.isWatching == false {
        throw SessionError("a study is running here; c cancels it")
      }
      let earlier = self.watcher
      self.watcher = watcher
      current.search = watcher.initialState
      let dashboard = watcher.dashboardURL.map { " (optuna-dashboard \($0))" } ?? ""
      log(.info, "watching study \(watcher.studyName) in \(location)\(dashboard)")
      return earlier
    }
    earlier?.stop()
    watcher.start()
  }

  /// A new state from the study's thread; states of an earlier study are dropped.
  private func searchChanged(_ state: SearchState) {
    lock.withLock {
      guard current.search?.storage == state.storage, current.search != state else { return }
      let previous = current.search
      current.search = state
      current.revision += 1
      if let newest = state.trials.first(where: { trial in
        trial.state != .running && previous?.trials.first { $0.number == trial.number }?.state == .running
      }) {
        log(newest.state == .failed ? .warning : .info, Self.trialLine(newest))
      }
      // A watched study has no end here: its workers may take more trials at any time.
      guard !state.isRunning, !state.isWatching else { return }
      if let error = state.error {
        log(.error, "search stopped: \(error)")
      } else {
        let best = state.front.first.map { ", best trial \($0)" } ?? ""
        log(.info, "search ended: \(state.finishedCount) of \(state.totalTrials) trials finished\(best)")
      }
    }
  }

  static func trialLine(_ trial: SearchTrial) -> String {
    var parts = ["trial \(trial.number) \(trial.isLost ? "lost" : trial.state.rawValue)"]
    if let host = trial.host { parts[0] += " on \(trial.shortHost.isEmpty ? host : trial.shortHost)" }
    if let accuracy = trial.accuracy { parts.append(String(format: "acc %.2f%%", accuracy * 100)) }
    if let size = trial.sizeBytes { parts.append(ByteCount.format(size)) }
    if let error = trial.error { parts.append(error) }
    return parts.joined(separator: ", ")
  }

  public func cancelSearch() {
    let running: WorkbenchStudy? = lock.withLock {
      guard current.search?.isRunning == true, current.search?.isWatching == false else { return nil }
      log(.info, "stopping the search: no new trials; running ones finish")
      return study
    }
    running?.stop()
  }

  public func saveTrialPipeline(_ number: Int, to path: String) throws {
    let (started, watched) = lock.withLock { (study, watcher) }
    let file = URL(fileURLWithPath: path)
    if let watched, lock.withLock({ current.search?.isWatching == true }) {
      try watched.writePipeline(number, to: file)
    } else if let started {
      try started.writePipeline(number, to: file)
    } else {
      throw SessionError("no study has run yet")
    }
    lock.withLock { log(.info, "wrote trial \(number)'s pipeline to \(path); lathe run \(path) runs it") }
  }

  public func loadTrial(_ number: Int) throws {
    let (started, watched, watching): (WorkbenchStudy?, StudyWatcher?, Bool) = lock.withLock {
      (self.study, self.watcher, self.current.search?.isWatching == true)
    }
    guard started != nil || watching else { throw SessionError("no study has run yet") }
    guard !state.isBusy else { throw SessionError("wait for the running step to finish (or cancel it with c)") }
    let files: (model: URL, pipeline: URL)
    let searchable: SearchablePipeline
    if watching, let watched {
      // The workers' folders are theirs: the trial's pipeline goes into the session folder.
      files = try watched.trialFiles(number, into: lock.withLock { subfolder("trial-\(number)") })
      searchable = watched.searchable
    } else if let started {
      files = try started.trialFiles(number)
      searchable = started.searchable
    } else {
      throw SessionError("no study has run yet")
    }
    lock.withLock { log(.info, "trial \(number): its pipeline is \(files.pipeline.path)") }
    // The model the trial made, with the pipeline that made it (its steps show as pending).
    try load(
      model: files.model.path, dataset: searchable.spec.dataset, pipeline: files.pipeline.path,
      name: "\(searchable.spec.name) trial \(number)")
  }
}
