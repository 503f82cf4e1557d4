import Foundation
import LatheCompress
import LatheIO
import LatheSearch
import LatheStudyStore
import LatheWorkspace

/// One study started from the workbench: a `StudyRunner` on a thread of its own, each trial a
/// `lathe run` worker process, the study database (`NAME.study.db`, Optuna's schema) and trial folders in `directory`. Every change to
/// the study is handed to `onChange` as a `SearchState`.
final class WorkbenchStudy: @unchecked Sendable {
  let searchable: SearchablePipeline
  /// The study's database file: optuna-dashboard opens it too, as `dashboardURL`.
  let studyFile: URL
  let dashboardURL: String?
  let trialsFolder: URL
  private let runner: StudyRunner
  private let executor: ProcessTrialExecutor
  private let jobs: Int
  /// Signalled when the study's thread ends.
  private let finished = DispatchSemaphore(value: 0)
  private let onChange: @Sendable (SearchState) -> Void

  /// Reads the pipeline and sets the study up; `start()` runs it.
  init(
    request: SearchRequest, pipelineFile: URL, binary: URL, directory: URL,
    onChange: @escaping @Sendable (SearchState) -> Void
  ) throws {
    var pipeline = try SearchablePipeline.read(from: pipelineFile)
    pipeline.settings.trials = request.trials
    let searchable = pipeline
    self.searchable = searchable
    self.onChange = onChange
    try AtomicFile.createFolder(directory)
    let file = directory.appendingPathComponent("\(searchable.spec.name).study.db")
    let location = StudyLocation.sqlite(path: file.path)
    let url = location.optunaURL
    let jobs = max(1, request.jobs)
    let setup = StudySetup(
      searchable, storage: try StudySetup.openStorage(searchable, at: location),
      trialsFolder: StudySetup.trialsFolder(for: location, studyName: searchable.spec.name), jobs: jobs,
      binary: binary,
      onUpdate: { study, _ in
        onChange(Self.state(study, of: searchable, jobs: jobs, storage: file.path, dashboardURL: url, isRunning: true))
      })
    self.jobs = jobs
    studyFile = file
    dashboardURL = url
    trialsFolder = setup.trialsFolder
    executor = setup.executor
    runner = setup.runner
  }

  /// The study as it stands before any trial, for the screen to show at once.
  var initialState: SearchState {
    Self.state(
      runner.study([]), of: searchable, jobs: jobs, storage: studyFile.path, dashboardURL: dashboardURL, isRunning: true
    )
  }

  /// Runs the study on its own thread; the last state says whether it ended with an error.
  func start() {
    let thread = Thread { [self] in
      var state: SearchState
      do {
        state = Self.state(
          try runner.run(), of: searchable, jobs: jobs, storage: studyFile.path, dashboardURL: dashboardURL,
          isRunning: false)
      } catch {
        let study = (try? runner.storage.read()).map(runner.study) ?? runner.study([])
        state = Self.state(
          study, of: searchable, jobs: jobs, storage: studyFile.path, dashboardURL: dashboardURL, isRunning: false)
        state.error = "\(error)"
      }
      onChange(state)
      finished.signal()
    }
    thread.name = "lathe-workbench-search"
    thread.start()
  }

  func stop() { runner.stop() }

  /// Stops the study now: no new trials, running worker processes terminated (their trials
  /// are recorded as failed), and waits for the study's thread to end.
  func shutdown() {
    runner.stop()
    executor.terminateRunning()
    // A worker's last write takes milliseconds; the bound is for a study on a hung disk.
    _ = finished.wait(timeout: .now() + 10)
    finished.signal()  // a second shutdown must not wait again
  }

  /// A complete trial's final model, and its pipeline written into its folder.
  func trialFiles(_ number: Int) throws -> (model: URL, pipeline: URL) {
    try Self.trialFiles(
      number, of: runner.study(try runner.storage.read()), searchable: searchable, trialsFolder: trialsFolder,
      studyName: studyFile.lastPathComponent,
      pipelineFolder: trialsFolder.appendingPathComponent(ProcessTrialExecutor.folderName(number)))
  }

  /// Trial `number`'s final model, found in `trialsFolder` where its worker left it, and its
  /// pipeline (the searched one with the trial's values) written into `pipelineFolder`.
  static func trialFiles(
    _ number: Int, of study: Study, searchable: SearchablePipeline, trialsFolder: URL, studyName: String,
    pipelineFolder: URL
  ) throws -> (model: URL, pipeline: URL) {
    let trial = try completeTrial(number, of: study)
    guard let model = ProcessTrialExecutor.finalModel(directory: trialsFolder, trial: number) else {
      let host = trial.host.map { " (it ran on \($0))" } ?? ""
      throw SessionError("trial \(number) left no model in \(trialsFolder.path)\(host)")
    }
    try AtomicFile.createFolder(pipelineFolder)
    let pipeline = pipelineFolder.appendingPathComponent("\(searchable.spec.name)-trial-\(number).yaml")
    try writePipeline(number, of: study, searchable: searchable, studyName: studyName, to: pipeline)
    return (model, pipeline)
  }

  /// Writes trial `number`'s pipeline (the searched one with the trial's values in place of the
  /// ranges) to `file`; it needs no model, so a trial that ran on another host has one too.
  static func writePipeline(
    _ number: Int, of study: Study, searchable: SearchablePipeline, studyName: String, to file: URL
  ) throws {
    let trial = try completeTrial(number, of: study)
    try searchable.writePipeline(
      of: trial, named: "\(searchable.spec.name)-trial-\(number)", study: studyName, to: file)
  }

  /// This study's own trial pipeline writer (`writePipeline`).
  func writePipeline(_ number: Int, to file: URL) throws {
    try Self.writePipeline(
      number, of: runner.study(try runner.storage.read()), searchable: searchable,
      studyName: studyFile.lastPathComponent, to: file)
  }

  private static func completeTrial(_ number: Int, of study: Study) throws -> TrialRecord {
    guard let trial = study.trials.first(where: { $0.number == number }) else {
      throw SessionError("the study has no trial \(number)")
    }
    guard trial.state == .complete else {
      throw SessionError("trial \(number) is \(trial.state.rawValue), not complete")
    }
    return trial
  }

  // MARK: - Study to screen state

  /// The screen's state of `study`, a study of `searchable`; `storage` names where it is
  /// (`WorkbenchState.search`'s identity), `dashboardURL` how optuna-dashboard opens it.
  static func state(
    _ study: Study, of searchable: SearchablePipeline, jobs: Int, storage: String, dashboardURL: String? = nil,
    isRunning: Bool
  ) -> SearchState {
    let space = searchable.space
    let settings = searchable.settings
    let retried = study.retried
    return SearchState(
      pipelineName: searchable.spec.name, sampler: settings.samplerName,
      objectives: settings.objectives.map(\.description), constraints: settings.constraints.map(\.description),
      totalTrials: settings.trials, jobs: jobs,
      trials: study.trials.map { trial($0, space: space, constraints: study.constraints, retried: retried) },
      bestSoFar: study.bestSoFar.map { BestSoFarPoint(trial: $0.trial, value: $0.value) },
      front: study.paretoFront.map(\.number),
      importance: study.importance(space: space).map { SettingImportance(name: $0.name, share: $0.share) },
      isRunning: isRunning, storage: storage, dashboardURL: dashboardURL)
  }

  /// One trial for the table. `retried`: failed trials another trial ran again, because their
  /// worker was lost (the runner's own words on the trial say so too, for a study read from
  /// before the retry was written).
  static func trial(
    _ record: TrialRecord, space: SearchSpace, constraints: [Constraint] = [], retried: Set<Int> = []
  ) -> SearchTrial {
    let state: SearchTrial.State
    switch record.state {
    case .running: state = .running
    case .complete: state = .complete
    case .pruned: state = .pruned
    case .failed: state = .failed
    }
    let settings = space.dimensions.compactMap { d in record.params[d.name].map { (d.name, Self.text($0)) } }
    let lost =
      record.state == .failed && (retried.contains(record.number) || record.error?.hasPrefix("worker lost") == true)
    // Only a complete trial's final metrics can miss a bound: the others have none, or a rung's.
    let violations =
      record.state == .complete ? constraints.filter { $0.violation(record.metrics) > 0 }.map(\.description) : []
    return SearchTrial(
      number: record.number, state: state, settings: settings, accuracy: record.metrics["accuracy"],
      sizeBytes: record.metrics["size_bytes"].map { Int($0) }, latencyB1: record.metrics["latency_b1"],
      seconds: record.seconds, error: record.error, metrics: record.metrics, host: record.host,
      retryOf: record.retryOf, isLost: lost, violations: violations)
  }

  /// Short text for a setting's value: numbers to 3 significant figures.
  static func text(_ value: JournalValue) -> String {
    if case .float(let f) = value { return String(format: "%.3g", f) }
    return value.description
  }
}
