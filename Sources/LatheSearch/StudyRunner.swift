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

/// The journal was written for a different search space.
public struct StudyMismatch: Error, CustomStringConvertible {
  public var description: String
}

/// Drives a study: `jobs` workers each take the next trial from the journal (under its lock, so
/// other processes sharing the journal take different ones), run it, and append the result.
/// Trials a dead process left running on this host are taken again, with the same values.
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
  public let journal: StudyJournal
  public let executor: any TrialExecutor
  /// Called (from worker threads, one at a time) after every change to the study.
  private let onUpdate: @Sendable (Study, String) -> Void
  private let lock = NSLock()
  private var stopping = false
  private var failure: Error?
  /// This process's identity in start events: a trial whose owner is gone can be taken again.
  private let host = ProcessInfo.processInfo.hostName
  private let pid = getpid()

  public init(
    configuration: Configuration, journal: StudyJournal, executor: any TrialExecutor,
    onUpdate: @escaping @Sendable (Study, String) -> Void = { _, _ in }
  ) {
    self.configuration = configuration
    self.journal = journal
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

  public func study(_ events: [JournalEvent]) -> Study {
    Study(
      events: events, objectives: configuration.settings.objectives, constraints: configuration.settings.constraints)
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
          while !isStopping, let ticket = try reserve() { try runTrial(ticket) }
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
    return study(try journal.read())
  }

  struct Ticket {
    var number: Int
    var unit: [Double]
  }

  /// Takes the next trial under the journal's lock: one a dead process left, else a new one.
  func reserve() throws -> Ticket? {
    let configuration = configuration
    let (ticket, snapshot): (Ticket?, Study?) = try journal.transaction { events in
      var append: [JournalEvent] = []
      if let header = events.first(where: { $0.event == .study }) {
        if header.space != configuration.space.fingerprint {
          throw StudyMismatch(
            description:
              "\(journal.url.path) holds a study of another search space (pipeline \(header.pipeline ?? "?")); "
              + "use another --study file")
        }
      } else {
        var header = JournalEvent(event: .study)
        header.pipeline = configuration.pipelineName
        header.space = configuration.space.fingerprint
        header.objectives = configuration.settings.objectives.map(\.description)
        header.sampler = configuration.sampler.name
        header.seed = configuration.settings.seed
        append.append(header)
      }
      let study = self.study(events)
      var start: JournalEvent
      if let orphan = study.trials.first(where: { $0.state == .running && isAbandoned($0) }) {
        start = JournalEvent(event: .start, trial: orphan.number)
        start.unit = orphan.unit
      } else {
        let next = (study.trials.last?.number ?? -1) + 1
        guard next < configuration.trials else { return (append, (nil, nil)) }
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
      return (append, (Ticket(number: start.trial!, unit: start.unit!), self.study(events + append)))
    }
    if let snapshot, let ticket { onUpdate(snapshot, "trial \(ticket.number) started") }
    return ticket
  }

  /// A running trial whose process is gone: on this host with a dead pid, or elsewhere for too long.
  private func isAbandoned(_ trial: TrialRecord) -> Bool {
    if trial.host != host {
      guard let stale = configuration.staleAfter else { return false }
      return Date().timeIntervalSince1970 - trial.started > stale
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
      let stop: Bool = try journal.transaction { events in
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
        return (append, prune)
      }
      onUpdate(
        study(try journal.read()),
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
    try journal.append([end])
    onUpdate(study(try journal.read()), "trial \(number) \(state.rawValue)")
  }
}
