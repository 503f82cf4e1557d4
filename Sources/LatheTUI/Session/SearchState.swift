/// A study of a search pipeline as the Search screen draws it: its settings, every trial so far,
/// the best-so-far curve, the Pareto front and which settings matter. Part of `WorkbenchState`.
public struct SearchState: Sendable, Equatable {
  public var pipelineName: String
  public var sampler: String
  /// "minimize size_bytes", "maximize accuracy"; the first one is the best-so-far curve's.
  public var objectives: [String]
  /// "accuracy >= 0.94".
  public var constraints: [String]
  /// The study's total number of trials, and how many run at once.
  public var totalTrials: Int
  public var jobs: Int
  /// By trial number.
  public var trials: [SearchTrial]
  /// The first objective's best value after each finished trial, in the order trials finished.
  public var bestSoFar: [BestSoFarPoint]
  /// Numbers of the trials on the Pareto front, best first by the first objective (for one
  /// objective: just the best trial).
  public var front: [Int]
  /// Share of the first objective's variance each searched setting explains, largest first.
  public var importance: [SettingImportance]
  /// True until every trial has run or the study was cancelled and its running trials ended.
  public var isRunning: Bool
  /// Why the study stopped early, when it failed as a whole (not one trial).
  public var error: String?
  /// Where the study is (a `NAME.study.db` in Optuna's schema): `lathe search FILE --storage sqlite:///PATH --resume` carries it on.
  public var storage: String
  /// The URL optuna-dashboard opens the study with (`sqlite:///PATH`, a PostgreSQL URL without
  /// its password); nil for a journal, which it cannot open.
  public var dashboardURL: String?
  /// The study runs elsewhere (`lathe workbench --study`): the screen only reads it, so it can
  /// neither cancel it nor start another; `isRunning` then means some trial is running.
  public var isWatching: Bool

  public init(
    pipelineName: String, sampler: String, objectives: [String], constraints: [String] = [], totalTrials: Int,
    jobs: Int, trials: [SearchTrial] = [], bestSoFar: [BestSoFarPoint] = [], front: [Int] = [],
    importance: [SettingImportance] = [], isRunning: Bool, error: String? = nil, storage: String,
    dashboardURL: String? = nil, isWatching: Bool = false
  ) {
    self.pipelineName = pipelineName
    self.sampler = sampler
    self.objectives = objectives
    self.constraints = constraints
    self.totalTrials = totalTrials
    self.jobs = jobs
    self.trials = trials
    self.bestSoFar = bestSoFar
    self.front = front
    self.importance = importance
    self.isRunning = isRunning
    self.error = error
    self.storage = storage
    self.dashboardURL = dashboardURL
    self.isWatching = isWatching
  }

  /// Trials that have ended, one way or another, but for those whose worker was lost: the
  /// trial that runs one again counts instead (as `Study.counted` has it).
  public var finishedCount: Int { trials.filter { $0.state != .running && !$0.isLost }.count }
  public var runningCount: Int { trials.filter { $0.state == .running }.count }
}

/// One trial of a study.
public struct SearchTrial: Sendable, Equatable {
  public enum State: String, Sendable, Equatable {
    case running, complete, pruned, failed
  }

  public var number: Int
  public var state: State
  /// The trial's settings by searched dimension (`prune.lr`, `prune.final_sparsity.fc1`), in
  /// the search space's order, as short text.
  public var settings: [(name: String, value: String)]
  /// Test accuracy 0...1, stored bytes and batch-1 median latency (µs) of its final model.
  public var accuracy: Double?
  public var sizeBytes: Int?
  public var latencyB1: Double?
  /// Seconds it ran; nil while it runs.
  public var seconds: Double?
  /// Why it failed.
  public var error: String?
  /// Every metric of its final model by name, for the objectives the fields above do not cover.
  public var metrics: [String: Double]
  /// The machine its worker ran on, as the worker named it; nil when unknown (Optuna's own trials).
  public var host: String?
  /// The trial this one runs again because that one's worker was lost.
  public var retryOf: Int?
  /// It failed because its worker was lost (killed, or its heartbeat stopped).
  public var isLost: Bool
  /// The constraints its final model misses ("accuracy >= 0.94"); such a trial cannot be best.
  public var violations: [String]

  public init(
    number: Int, state: State, settings: [(name: String, value: String)], accuracy: Double? = nil,
    sizeBytes: Int? = nil, latencyB1: Double? = nil, seconds: Double? = nil, error: String? = nil,
    metrics: [String: Double] = [:], host: String? = nil, retryOf: Int? = nil, isLost: Bool = false,
    violations: [String] = []
  ) {
    self.number = number
    self.state = state
    self.settings = settings
    self.accuracy = accuracy
    self.sizeBytes = sizeBytes
    self.latencyB1 = latencyB1
    self.seconds = seconds
    self.error = error
    self.metrics = metrics
    self.host = host
    self.retryOf = retryOf
    self.isLost = isLost
    self.violations = violations
  }

  /// A metric by its name in the study (`accuracy`, `size_bytes`, `latency_b1`, ...).
  public func metric(_ name: String) -> Double? {
    if let value = metrics[name] { return value }
    switch name {
    case "accuracy": return accuracy
    case "size_bytes": return sizeBytes.map(Double.init)
    case "latency_b1": return latencyB1
    default: return nil
    }
  }

  /// The host name up to its first dot: "gpu-3" of "gpu-3.cluster.example.org".
  public var shortHost: String { host.map { String($0.prefix { $0 != "." }) } ?? "" }

  public static func == (a: SearchTrial, b: SearchTrial) -> Bool {
    a.number == b.number && a.state == b.state && a.settings.map(\.name) == b.settings.map(\.name)
      && a.settings.map(\.value) == b.settings.map(\.value) && a.accuracy == b.accuracy && a.sizeBytes == b.sizeBytes
      && a.latencyB1 == b.latencyB1 && a.seconds == b.seconds && a.error == b.error
      && a.metrics == b.metrics && a.host == b.host && a.retryOf == b.retryOf && a.isLost == b.isLost
      && a.violations == b.violations
  }
}

/// A point of the best-so-far curve.
public struct BestSoFarPoint: Sendable, Equatable {
  public var trial: Int
  public var value: Double
  public init(trial: Int, value: Double) {
    self.trial = trial
    self.value = value
  }
}

/// How much one searched setting matters (shares sum to 1).
public struct SettingImportance: Sendable, Equatable {
  public var name: String
  public var share: Double
  public init(name: String, share: Double) {
    self.name = name
    self.share = share
  }
}

/// What the Search screen asks for: which pipeline to search, how many trials, how many at once.
public struct SearchRequest: Sendable, Equatable {
  /// A search pipeline: a path, or the name of a bundled one (see `searchPipelines`).
  public var pipeline: String
  public var trials: Int
  public var jobs: Int

  public init(pipeline: String, trials: Int, jobs: Int) {
    self.pipeline = pipeline
    self.trials = trials
    self.jobs = jobs
  }
}
