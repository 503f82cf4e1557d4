import Foundation
import LatheIO
import LatheSearch
import LatheStudyStore
import LatheWorkspace

/// A study that `lathe search` workers run elsewhere (other processes, other machines), read
/// from its storage about once a second on a thread of its own and handed to `onChange` as a
/// `SearchState` whenever it changed. It never writes: a study not there yet is waited for
/// (its file is not created), and problems (no such study, a study of another search space,
/// a server that does not answer) show as the state's error while reading goes on.
final class StudyWatcher: @unchecked Sendable {
  let location: StudyLocation
  let studyName: String
  /// The pipeline that made the study: its space, objectives and constraints.
  let searchable: SearchablePipeline
  private let interval: Double
  private let onChange: @Sendable (SearchState) -> Void
  /// Opened once the study is there; dropped after an error, to connect afresh.
  private var storage: (any StudyStorage)?
  private let lock = NSLock()
  private var stopped = false
  /// The study as last read (guarded by `lock`), to find a trial's files.
  private var lastStudy: Study?
  /// Wakes the thread early, to stop.
  private let wake = DispatchSemaphore(value: 0)
  private let finished = DispatchSemaphore(value: 0)
  private var started = false

  init(
    location: StudyLocation, studyName: String, searchable: SearchablePipeline, interval: Double = 1,
    onChange: @escaping @Sendable (SearchState) -> Void
  ) {
    self.location = location
    self.studyName = studyName
    self.searchable = searchable
    self.interval = interval
    self.onChange = onChange
  }

  /// `location` for messages and as the state's identity: a path, or a URL without its password.
  var storageName: String { location.description }
  var dashboardURL: String? { location.optunaURL.map(StudyLocation.redacted) }

  /// The study before the first read: no trials yet.
  var initialState: SearchState { state(of: study([]), error: nil) }

  func start() {
    lock.withLock { started = true }
    let thread = Thread { [self] in
      var last: SearchState?
      while !lock.withLock({ stopped }) {
        let state = poll()
        if state != last {
          last = state
          onChange(state)
        }
        _ = wake.wait(timeout: .now() + interval)
      }
      finished.signal()
    }
    thread.name = "lathe-workbench-watch"
    thread.start()
  }

  /// Stops reading and waits for the thread (a read stuck on a locked database is left behind
  /// after two seconds: it only reads, and its result is dropped). A second call returns at once.
  func stop() {
    let wait: Bool = lock.withLock {
      defer { stopped = true }
      return started && !stopped
    }
    guard wait else { return }
    wake.signal()
    _ = finished.wait(timeout: .now() + 2)
  }

  /// Reads the study once.
  func poll() -> SearchState {
    do {
      let storage = try openStorage()
      let events = try storage.read()
      let study = study(events)
      lock.withLock { lastStudy = study }
      return state(of: study, error: mismatch(events))
    } catch {
      storage = nil
      let study = lock.withLock { lastStudy } ?? self.study([])
      return state(of: study, error: "\(error)")
    }
  }

  /// The storage, once the study is there; opening never creates a file, schema or study.
  private func openStorage() throws -> any StudyStorage {
    if let storage { return storage }
    switch location {
    case .sqlite(let path), .journal(let path):
      guard FileManager.default.fileExists(atPath: path) else {
        throw SessionError("\(path): no such file yet; waiting for the study's workers to make it")
      }
    case .postgresql: break
    }
    if case .journal = location {
    } else {
      guard try location.holdsStudy(named: studyName) else {
        throw SessionError(
          "\(storageName) has no study named \(studyName) yet (--study-name names another); waiting for it")
      }
    }
    let opened = try location.open(
      studyName: studyName, space: searchable.space, objectiveMetrics: searchable.settings.objectives.map(\.metric),
      heartbeatInterval: nil)
    storage = opened
    return opened
  }

  /// The study the events tell, with each trial's point in [0, 1]^d (trials Optuna wrote
  /// carry only their values), as `StudyRunner.study` makes it.
  func study(_ events: [JournalEvent]) -> Study {
    let settings = searchable.settings
    var study = Study(events: events, objectives: settings.objectives, constraints: settings.constraints)
    let space = searchable.space
    for i in study.trials.indices where study.trials[i].unit.count != space.count {
      if let unit = space.unit(of: study.trials[i].params) { study.trials[i].unit = unit }
    }
    return study
  }

  private func state(of study: Study, error: String?) -> SearchState {
    var state = WorkbenchStudy.state(
      study, of: searchable, jobs: 0, storage: storageName, dashboardURL: dashboardURL,
      isRunning: study.trials.contains { $0.state == .running })
    state.isWatching = true
    // The workers may have been given more trials than the pipeline's `trials:`.
    state.totalTrials = max(state.totalTrials, study.counted)
    state.error = error
    return state
  }

  /// Why the study does not fit the pipeline (`--pipeline` names another), or nil.
  func mismatch(_ events: [JournalEvent]) -> String? {
    guard let header = events.last(where: { $0.event == .study }) else { return nil }
    let name = searchable.spec.file?.lastPathComponent ?? searchable.spec.name
    if let space = header.space, space != searchable.space.fingerprint {
      return "study \(studyName) searches another space than \(name) (its ranges or steps differ); "
        + "--pipeline names the pipeline that made it"
    }
    let theirs = header.objectives ?? []
    let ours = searchable.settings.objectives
    guard Objective.same(theirs, as: ours) || theirs.isEmpty else {
      return "study \(studyName) has objectives [\(theirs.joined(separator: ", "))]; "
        + "\(name) has [\(ours.map(\.description).joined(separator: ", "))]"
    }
    return nil
  }

  /// A complete trial's model, where a worker on this machine left it (beside the study's
  /// file, or in the working folder for a server's study), and its pipeline written into
  /// `folder` (the session's, not the workers').
  func trialFiles(_ number: Int, into folder: URL) throws -> (model: URL, pipeline: URL) {
    try WorkbenchStudy.trialFiles(
      number, of: try readStudy(), searchable: searchable,
      trialsFolder: StudySetup.trialsFolder(for: location, studyName: studyName), studyName: storageName,
      pipelineFolder: folder)
  }

  /// Trial `number`'s pipeline written to `file` (`WorkbenchStudy.writePipeline`).
  func writePipeline(_ number: Int, to file: URL) throws {
    try WorkbenchStudy.writePipeline(
      number, of: try readStudy(), searchable: searchable, studyName: storageName, to: file)
  }

  private func readStudy() throws -> Study {
    guard let study = lock.withLock({ lastStudy }) else { throw SessionError("the study has not been read yet") }
    return study
  }
}
