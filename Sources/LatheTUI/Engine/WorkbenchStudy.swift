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
  /// The study's database file: optuna-dashboard opens it too.
  let studyFile: URL
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
    let jobs = max(1, request.jobs)
    let setup = StudySetup(
      searchable, storage: try StudySetup.openStorage(searchable, at: location),
      trialsFolder: StudySetup.trialsFolder(for: location, studyName: searchable.spec.name), jobs: jobs,
      binary: binary,
      onUpdate: { study, _ in
        onChange(Self.state(study, of: searchable, jobs: jobs, storage: file.path, isRunning: true))
      })
    self.jobs = jobs
    studyFile = file
    trialsFolder = setup.trialsFolder
    executor = setup.executor
    runner = setup.runner
  }

  /// The study as it stands before any trial, for the screen to show at once.
  var initialState: SearchState {
    Self.state(runner.study([]), of: searchable, jobs: jobs, storage: studyFile.path, isRunning: true)
  }

  /// Runs the study on its own thread; the last state says whether it ended with an error.
  func start() {
    let thread = Thread { [self] in
      var state: SearchState
      do {
        state = Self.state(try runner.run(), of: searchable, jobs: jobs, storage: studyFile.path, isRunning: false)
      } catch {
        let study = (try? runner.storage.read()).map(runner.study) ?? runner.study([])
        state = Self.state(study, of: searchable, jobs: jobs, storage: studyFile.path, isRunning: false)
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
    let study = runner.study(try runner.storage.read())
    guard let trial = study.trials.first(where: { $0.number == number }) else {
      throw SessionError("the study has no trial \(number)")
    }
    guard trial.state == .complete else {
      throw SessionError("trial \(number) is \(trial.state.rawValue), not complete")
    }
    guard let model = ProcessTrialExecutor.finalModel(directory: trialsFolder, trial: number) else {
      throw SessionError("trial \(number) left no model in \(trialsFolder.path)")
    }
    let name = "\(searchable.spec.name)-trial-\(number)"
    let pipeline = trialsFolder.appendingPathComponent(ProcessTrialExecutor.folderName(number))
      .appendingPathComponent("\(name).yaml")
    try searchable.writePipeline(of: trial, named: name, study: studyFile.lastPathComponent, to: pipeline)
    return (model, pipeline)
  }

  // MARK: - Study to screen state

  static func state(
    _ study: Study, of searchable: SearchablePipeline, jobs: Int, storage: String, isRunning: Bool
  ) -> SearchState {
    let space = searchable.space
    let settings = searchable.settings
    return SearchState(
      pipelineName: searchable.spec.name, sampler: settings.samplerName,
      objectives: settings.objectives.map(\.description), constraints: settings.constraints.map(\.description),
      totalTrials: settings.trials, jobs: jobs, trials: study.trials.map { trial($0, space: space) },
      bestSoFar: study.bestSoFar.map { BestSoFarPoint(trial: $0.trial, value: $0.value) },
      front: study.paretoFront.map(\.number),
      importance: study.importance(space: space).map { SettingImportance(name: $0.name, share: $0.share) },
      isRunning: isRunning, storage: storage)
  }

  static func trial(_ record: TrialRecord, space: SearchSpace) -> SearchTrial {
    let state: SearchTrial.State
    switch record.state {
    case .running: state = .running
    case .complete: state = .complete
    case .pruned: state = .pruned
    case .failed: state = .failed
    }
    let settings = space.dimensions.compactMap { d in record.params[d.name].map { (d.name, Self.text($0)) } }
    return SearchTrial(
      number: record.number, state: state, settings: settings, accuracy: record.metrics["accuracy"],
      sizeBytes: record.metrics["size_bytes"].map { Int($0) }, latencyB1: record.metrics["latency_b1"],
      seconds: record.seconds, error: record.error)
  }

  /// Short text for a setting's value: numbers to 3 significant figures.
  static func text(_ value: JournalValue) -> String {
    if case .float(let f) = value { return String(format: "%.3g", f) }
    return value.description
  }
}
