import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What a worker hands an executor: one trial's values, at one budget.
public struct TrialRequest: Sendable {
  public var number: Int
  public var unit: [Double]
  public var values: [String: JournalValue]
  /// The early-stopping budget of this run (nil when the study has none).
  public var budget: Int?
}

/// Runs one trial and returns its metrics (by name, e.g. `accuracy`, `size_bytes`). A thrown
/// error records the trial as failed; the study goes on.
public protocol TrialExecutor: Sendable {
  func run(_ request: TrialRequest) throws -> [String: Double]
}

/// An executor from a closure: tests and function benchmarks.
public struct ClosureExecutor: TrialExecutor {
  let body: @Sendable (TrialRequest) throws -> [String: Double]
  public init(_ body: @escaping @Sendable (TrialRequest) throws -> [String: Double]) { self.body = body }
  public func run(_ request: TrialRequest) throws -> [String: Double] { try body(request) }
}

/// The study was made for a different search space (or different objectives).
public struct StudyMismatch: Error, CustomStringConvertible {
  public var description: String
}

/// Drives a study: `jobs` workers each take the next trial from the storage (under its lock, so
/// other processes sharing the study take different ones), run it, and record the result.
/// A trial whose worker is gone (a dead process on this host, a heartbeat that stopped, or
/// `staleAfter` for journals shared between hosts) is marked failed and run again as a new
/// trial with the same values, as Optuna's `RetryFailedTrialCallback` does: no trial is lost,
/// and none counts twice.
public final class StudyRunner: @unchecked Sendable {
  public struct Configuration: Sendable {
    public var space: SearchSpace
    public var settings: StudySettings
    public var sampler: any Sampler
    /// The study's total: trials numbered 0..<trials, whoever runs them.
    public var trials: Int
    public var jobs: Int
    public var pipelineName: String
    /// A trial running this many seconds on another host is taken to be lost (its job died) and
    /// runs again; nil: only trials of dead processes on this host run again.
    public var staleAfter: Double?

    public init(
      space: SearchSpace, settings: StudySettings, sampler: any Sampler, trials: Int, jobs: Int,
      pipelineName: String = "pipeline", staleAfter: Double? = nil
    ) {
      self.staleAfter = staleAfter
      self.space = space
      self.settings = settings
      self.sampler = sampler
      self.trials = trials
      self.jobs = jobs
      self.pipelineName = pipelineName
    }
  }

  public let configuration: Configuration
  public let storage: any StudyStorage
  public let executor: any TrialExecutor
  /// Time spent in `storage`'s calls, for the report: what keeping the study costs.
  public let storageClock = StorageClock()
  /// Called (from worker threads, one at a time) after every change to the study.
  private let onUpdate: @Sendable (Study, String) -> Void
  private let lock = NSLock()
  private var stopping = false
  private var failure: Error?
  /// This process's identity in start events: a trial whose owner is gone can be taken again.
  /// `LATHE_WORKER_HOST` overrides the host name, for containers (and tests) that share one.
  private let host = ProcessInfo.processInfo.environment["LATHE_WORKER_HOST"] ?? ProcessInfo.processInfo.hostName
  private let pid = getpid()

  public init(
    configuration: Configuration, storage: any StudyStorage, executor: any TrialExecutor,
    onUpdate: @escaping @Sendable (Study, String) -> Void = { _, _ in }
  ) {
    self.configuration = configuration
    self.storage = storage
    self.executor = executor
    self.onUpdate = onUpdate
  }

  /// Stops taking new trials; running ones finish and are recorded.
  public func stop() {
    lock.lock()
    stopping = true
    lock.unlock()
  }

  private var isStopping: Bool {
    lock.lock()
    defer { lock.unlock() }
    return stopping
  }

  /// The study the events tell, with each trial's point in [0, 1]^d: trials another tool
  /// (Optuna) wrote carry only their values, so their points are worked out from those.
  public func study(_ events: [JournalEvent]) -> Study {
    var study = Study(
      events: events, objectives: configuration.settings.objectives, constraints: configuration.settings.constraints)
    let space = configuration.space
    for i in study.trials.indices where study.trials[i].unit.count != space.count {
      if let unit = space.unit(of: study.trials[i].params) { study.trials[i].unit = unit }
    }
    return study
  }

  /// Runs until the study has all its trials (or `stop()`), then returns it.
  @discardableResult
  public func run() throws -> Study {
    let group = DispatchGroup()
    for worker in 0..<max(configuration.jobs, 1) {
      group.enter()
      let thread = Thread { [self] in
        defer { group.leave() }
        do {
          while !isStopping {
            switch try reserve() {
            case .trial(let ticket): try runTrial(ticket)
            case .waitForOthers: Thread.sleep(forTimeInterval: waitInterval)
            case .done: return
            }
          }
        } catch {
          lock.lock()
          if failure == nil { failure = error }
          stopping = true
          lock.unlock()
        }
      }
      thread.name = "lathe-search-\(worker)"
      thread.stackSize = 1 << 22
      thread.start()
    }
    group.wait()
    if let failure { throw failure }
    return study(try read())
  }

  struct Ticket {
    var number: Int
    var unit: [Double]
  }

  /// What a worker does next.
  enum Next {
    case trial(Ticket)
    /// Every trial is taken, but some run in other workers: with heartbeats each of them ends
    /// or is found lost within two intervals, and then a waiting worker runs it again, so no
    /// trial is left behind when its worker dies after the others ran out of new trials.
    case waitForOthers
    case done
  }

  /// How often a waiting worker looks again: half a heartbeat, at most a second.
  private var waitInterval: Double { min((storage.heartbeatInterval ?? 2) / 2, 1) }

  /// `storage.transaction`, timed.
  private func transaction<R>(_ body: ([JournalEvent]) throws -> (append: [JournalEvent], result: R)) throws -> R {
    try storageClock.time { try storage.transaction(body) }
  }

  /// `storage.read()`, timed.
  private func read() throws -> [JournalEvent] { try storageClock.time { try storage.read() } }

  /// Takes the next trial under the storage's lock: a lost one again, else a new one.
  func reserve() throws -> Next {
    let configuration = configuration
    let (next, snapshot): (Next, Study?) = try transaction { events in
      var append = try header(for: events)
      let study = self.study(events)
      var start: JournalEvent
      let next = (study.trials.last?.number ?? -1) + 1
      if let lost = study.trials.first(where: { $0.state == .running && isAbandoned($0) }) {
        var end = JournalEvent(event: .finish, trial: lost.number)
        end.state = .failed
        end.error =
          "worker lost (\(lost.host ?? "?") pid \(lost.pid.map(String.init) ?? "?")); run again as trial \(next)"
        end.seconds = Date().timeIntervalSince1970 - lost.started
        append.append(end)
        start = JournalEvent(event: .start, trial: next)
        start.unit = lost.unit
        start.retryOf = lost.number
      } else {
        guard study.counted < configuration.trials else {
          let othersRunning = study.trials.contains { $0.state == .running }
          return (append, (othersRunning && storage.heartbeatInterval != nil ? .waitForOthers : .done, nil))
        }
        let context = SamplerContext(
          dimensions: configuration.space.unitDimensions, trial: next, totalTrials: configuration.trials,
          objectives: configuration.settings.objectives.count,
          history: study.observations(dimensions: configuration.space.count), seed: configuration.settings.seed)
        start = JournalEvent(event: .start, trial: next)
        start.unit = configuration.sampler.suggest(context)
      }
      start.params = configuration.space.values(at: start.unit!)
      start.host = host
      start.pid = pid
      append.append(start)
      return (append, (.trial(Ticket(number: start.trial!, unit: start.unit!)), self.study(events + append)))
    }
    if let snapshot, case .trial(let ticket) = next { onUpdate(snapshot, "trial \(ticket.number) started") }
    return next
  }

  /// The `study` event to write first, if any: none when the study is this space's already; a
  /// new one for a new study, or for one another tool made whose trials all fit this space.
  private func header(for events: [JournalEvent]) throws -> [JournalEvent] {
    let configuration = configuration
    var header = JournalEvent(event: .study)
    header.pipeline = configuration.pipelineName
    header.space = configuration.space.fingerprint
    header.objectives = configuration.settings.objectives.map(\.description)
    header.sampler = configuration.sampler.name
    header.seed = configuration.settings.seed
    let headers = events.filter { $0.event == .study }
    guard !headers.isEmpty else { return [header] }
    // Later study events add to the first (the best pipeline); the space is the last one named.
    var found = JournalEvent(event: .study)
    found.space = headers.compactMap(\.space).last
    found.pipeline = headers.compactMap(\.pipeline).last
    found.objectives = headers.compactMap(\.objectives).last
    if let space = found.space {
      guard space == configuration.space.fingerprint else {
        throw StudyMismatch(
          description:
            "\(storage.location) holds a study of another search space (pipeline \(found.pipeline ?? "?")); "
            + "use another study")
      }
      return []
    }
    // A study another tool (Optuna) made: same directions, and every trial's values in range.
    let theirs = found.objectives ?? []
    let ours = configuration.settings.objectives
    guard Objective.same(theirs, as: ours) else {
      throw StudyMismatch(
        description:
          "\(storage.location): the study's objectives are [\(theirs.joined(separator: ", "))]; "
          + "this search has [\(ours.map(\.description).joined(separator: ", "))]")
    }
    for trial in Study(events: events, objectives: ours).trials
    where !trial.params.isEmpty && configuration.space.unit(of: trial.params) == nil {
      let names = configuration.space.dimensions.map(\.name).joined(separator: ", ")
      throw StudyMismatch(
        description:
          "\(storage.location): trial \(trial.number) has parameters "
          + "{\(trial.params.keys.sorted().map { "\($0): \(trial.params[$0]!)" }.joined(separator: ", "))} "
          + "outside this search's space (\(names))")
    }
    return [header]
  }

  /// A running trial whose worker is gone: its heartbeat stopped (storages that keep them), a
  /// dead pid on this host, or running too long on another host (`staleAfter`, for journals).
  private func isAbandoned(_ trial: TrialRecord) -> Bool {
    let now = Date().timeIntervalSince1970
    // Two missed heartbeats, Optuna's default grace period.
    if let interval = storage.heartbeatInterval, now - (trial.lastHeartbeat ?? trial.started) > 2 * interval {
      return true
    }
    if trial.host != host {
      guard let stale = configuration.staleAfter else { return false }
      return now - trial.started > stale
    }
    guard let owner = trial.pid, owner != pid else { return false }
    return kill(owner, 0) != 0 && errno == ESRCH
  }

  /// Runs one trial through its rungs, recording each and stopping it early when the pruner says so.
  func runTrial(_ ticket: Ticket) throws {
    let settings = configuration.settings
    let values = configuration.space.values(at: ticket.unit)
    let rungs: [Int?]
    var bracket = 0
    if let budget = settings.budget {
      let all = budget.rungs
      switch settings.pruner {
      case .none: rungs = [budget.max]
      case .median, .successiveHalving: rungs = all
      case .hyperband:
        bracket = ticket.number % all.count
        rungs = Array(all[bracket...])
      }
    } else {
      rungs = [nil]
    }
    let started = Date()
    let heartbeat = storage.heartbeatInterval.map { [storage, storageClock] interval in
      Heartbeat(every: interval) { try? storageClock.time { try storage.beat(trial: ticket.number) } }
    }
    defer { heartbeat?.stop() }
    for (index, budget) in rungs.enumerated() {
      let metrics: [String: Double]
      do {
        metrics = try executor.run(
          TrialRequest(number: ticket.number, unit: ticket.unit, values: values, budget: budget))
      } catch {
        // Stopping (Ctrl-C reaches the children too): leave the trial open, so a resume runs it again.
        if isStopping { return }
        try finish(ticket.number, .failed, metrics: [:], error: "\(error)", since: started)
        return
      }
      if index == rungs.count - 1 {
        try finish(ticket.number, .complete, metrics: metrics, error: nil, since: started)
        return
      }
      guard let budget else { continue }
      // The transaction hands back the study it just wrote, so the update needs no second read
      // (on a database each read is every row of the study).
      let (stop, after): (Bool, [JournalEvent]) = try transaction { events in
        var report = JournalEvent(event: .report, trial: ticket.number)
        report.budget = budget
        report.metrics = metrics
        let study = self.study(events + [report])
        let prune = shouldPrune(ticket.number, budget: budget, bracket: bracket, in: study)
        var append = [report]
        if prune {
          var end = JournalEvent(event: .finish, trial: ticket.number)
          end.state = .pruned
          end.metrics = metrics
          end.budget = budget
          end.seconds = Date().timeIntervalSince(started)
          append.append(end)
        }
        return (append, (prune, events + append))
      }
      onUpdate(
        study(after),
        stop ? "trial \(ticket.number) stopped at budget \(budget)" : "trial \(ticket.number) passed budget \(budget)")
      if stop { return }
    }
  }

  /// The early-stopping decision for a trial that just reported at `budget`.
  func shouldPrune(_ number: Int, budget: Int, bracket: Int, in study: Study) -> Bool {
    let settings = configuration.settings
    guard let objective = settings.objectives.first, let eta = settings.budget?.eta else { return false }
    let rungCount = settings.budget?.rungs.count ?? 1
    var mine: Double?
    var others: [Double] = []
    var completed: [Double] = []
    for t in study.trials {
      guard let metrics = t.rungs[budget], let loss = objective.loss(metrics) else { continue }
      if settings.pruner == .hyperband && t.number % rungCount != bracket { continue }
      if t.number == number {
        mine = loss
      } else {
        others.append(loss)
        if t.state == .complete { completed.append(loss) }
      }
    }
    guard let mine else { return false }
    switch settings.pruner {
    case .none: return false
    case .median:
      // Stop when worse than the median of completed trials at this budget, once there are a few.
      guard completed.count >= 3 else { return false }
      let others = completed
      let sorted = others.sorted()
      let median =
        sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
      return mine > median
    case .successiveHalving, .hyperband:
      // Asynchronous successive halving: go on only while in the top 1/eta of this rung.
      let all = (others + [mine]).sorted()
      let keep = max(all.count / eta, 1)
      return mine > all[keep - 1]
    }
  }

  private func finish(_ number: Int, _ state: TrialState, metrics: [String: Double], error: String?, since: Date)
    throws
  {
    var end = JournalEvent(event: .finish, trial: number)
    end.state = state
    end.metrics = metrics
    end.error = error
    end.seconds = Date().timeIntervalSince(since)
    let after = try transaction { events in ([end], events + [end]) }
    onUpdate(study(after), "trial \(number) \(state.rawValue)")
  }
}
