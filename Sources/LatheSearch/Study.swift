import Foundation

/// One trial as the journal tells it.
public struct TrialRecord: Sendable, Equatable {
  public var number: Int
  public var state: TrialState
  public var unit: [Double]
  /// Concrete values by dimension name.
  public var params: [String: JournalValue]
  /// The final step's metrics (complete trials), or the last rung's (pruned ones).
  public var metrics: [String: Double]
  /// Metrics after each early-stopping rung, by budget.
  public var rungs: [Int: [String: Double]]
  public var error: String?
  public var started: Double
  public var finished: Double?
  public var seconds: Double?
  public var host: String?
  public var pid: Int32?
  /// The failed trial this one runs again, when its worker was lost.
  public var retryOf: Int?
  /// When the trial's worker last said it was alive (storages that keep heartbeats), else nil.
  public var lastHeartbeat: Double?

  public var isFinished: Bool { state != .running }
}

/// A study as it stands: its trials from the journal, the best one or the Pareto front,
/// best-so-far and parameter importance. What `lathe search` prints and the workbench shows.
public struct Study: Sendable {
  public var objectives: [Objective]
  public var constraints: [Constraint]
  /// By trial number (a trial restarted after its worker died appears once).
  public var trials: [TrialRecord]
  public var pipelineName: String?
  public var spaceFingerprint: String?
  /// The best trial's pipeline as `lathe search` last wrote it (YAML), when it has.
  public var bestPipeline: String?

  public init(events: [JournalEvent], objectives: [Objective], constraints: [Constraint] = []) {
    self.objectives = objectives
    self.constraints = constraints
    var byNumber: [Int: TrialRecord] = [:]
    for e in events {
      switch e.event {
      case .study:
        // A later study event (the best pipeline, a study adopted from Optuna) adds to the first.
        pipelineName = e.pipeline ?? pipelineName
        spaceFingerprint = e.space ?? spaceFingerprint
        bestPipeline = e.bestPipeline ?? bestPipeline
      case .start:
        guard let n = e.trial, byNumber[n]?.isFinished != true else { continue }
        byNumber[n] = TrialRecord(
          number: n, state: .running, unit: e.unit ?? [], params: e.params ?? [:], metrics: [:],
          rungs: byNumber[n]?.rungs ?? [:], error: nil, started: e.time, finished: nil, seconds: nil, host: e.host,
          pid: e.pid, retryOf: e.retryOf)
      case .heartbeat:
        guard let n = e.trial, byNumber[n]?.isFinished == false else { continue }
        byNumber[n]!.lastHeartbeat = max(byNumber[n]!.lastHeartbeat ?? e.time, e.time)
      case .report:
        guard let n = e.trial, let budget = e.budget, byNumber[n]?.isFinished == false else { continue }
        byNumber[n]!.rungs[budget] = e.metrics ?? [:]
      case .finish:
        guard let n = e.trial, byNumber[n] != nil, byNumber[n]!.isFinished == false else { continue }
        byNumber[n]!.state = e.state ?? .failed
        byNumber[n]!.metrics = e.metrics ?? [:]
        byNumber[n]!.error = e.error
        byNumber[n]!.finished = e.time
        byNumber[n]!.seconds = e.seconds
      }
    }
    trials = byNumber.keys.sorted().map { byNumber[$0]! }
  }

  public var finished: [TrialRecord] { trials.filter(\.isFinished) }

  /// Failed trials that another trial ran again: they do not count toward the study's total.
  public var retried: Set<Int> { Set(trials.compactMap(\.retryOf)) }

  /// Trials that count toward the study's total: all but the failed ones run again.
  public var counted: Int {
    let retried = retried
    return trials.filter { !retried.contains($0.number) }.count
  }
  public var complete: [TrialRecord] { trials.filter { $0.state == .complete } }

  /// The trial's objectives as losses (minimized), or nil if it has no result.
  public func losses(_ t: TrialRecord) -> [Double]? {
    guard t.state == .complete || t.state == .pruned else { return nil }
    let values = objectives.compactMap { $0.loss(t.metrics) }
    return values.count == objectives.count ? values : nil
  }

  public func violation(_ t: TrialRecord) -> Double { constraints.map { $0.violation(t.metrics) }.reduce(0, +) }

  /// Complete trials meeting every constraint: the ones that can be best.
  public var feasible: [TrialRecord] { complete.filter { violation($0) == 0 && losses($0) != nil } }

  /// The best feasible trial by the first objective (ties: by the later objectives).
  public var best: TrialRecord? {
    feasible.min { a, b in losses(a)!.lexicographicallyPrecedes(losses(b)!) }
  }

  /// Feasible trials no other feasible trial dominates, ordered by the first objective.
  public var paretoFront: [TrialRecord] {
    let candidates = feasible
    let losses = candidates.map { self.losses($0)! }
    guard let first = Pareto.fronts(losses).first else { return [] }
    return first.map { candidates[$0] }.sorted { self.losses($0)!.lexicographicallyPrecedes(self.losses($1)!) }
  }

  /// Best first-objective value after each finished trial, in the order trials finished.
  public var bestSoFar: [(trial: Int, value: Double)] {
    var best = Double.infinity
    var curve: [(Int, Double)] = []
    let sign = objectives.first?.direction == .maximize ? -1.0 : 1.0
    for t in finished.sorted(by: { ($0.finished ?? 0, $0.number) < ($1.finished ?? 0, $1.number) }) {
      if t.state == .complete, violation(t) == 0, let l = losses(t)?.first { best = min(best, l) }
      if best.isFinite { curve.append((t.number, sign * best)) }
    }
    return curve
  }

  /// What samplers see: trial i at index i (trials never started stay out of the count).
  public func observations(dimensions: Int) -> [Observation] {
    guard let last = trials.last?.number else { return [] }
    var result = (0...last).map { _ in Observation(unit: Array(repeating: 0.5, count: dimensions), losses: nil) }
    for t in trials {
      // A point of another shape (a damaged journal) would index past the samplers' arrays.
      guard t.unit.count == dimensions else { continue }
      result[t.number] = Observation(unit: t.unit, losses: losses(t), violation: violation(t))
    }
    return result
  }

  /// Hypervolume of the front against `reference` (losses), for two or three objectives.
  public func hypervolume(reference: [Double]) -> Double {
    Pareto.hypervolume(paretoFront.map { losses($0)! }, reference: reference)
  }

  /// Parameter importance for the first objective (see `ParameterImportance`).
  public func importance(space: SearchSpace) -> [(name: String, share: Double)] {
    let rows = complete.compactMap { t in losses(t).map { (t.unit, $0[0]) } }.filter { $0.0.count == space.count }
    return ParameterImportance.estimate(
      points: rows.map(\.0), values: rows.map(\.1), names: space.dimensions.map(\.name))
  }
}
