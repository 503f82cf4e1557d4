import Foundation

/// What `lathe search` prints at the end: counts, the best trial or the Pareto front, and
/// parameter importance; as text for people and as JSON for scripts.
public struct SearchReport: Sendable {
  public var study: Study
  public var space: SearchSpace
  public var settings: StudySettings
  public var journal: String
  public var seconds: Double
  public var newTrials: Int
  /// Wall seconds this run spent in the storage's calls, and how many (`StudyRunner.storageClock`).
  public var storageSeconds: Double
  public var storageCalls: Int

  public init(
    study: Study, space: SearchSpace, settings: StudySettings, journal: String, seconds: Double, newTrials: Int,
    storageSeconds: Double = 0, storageCalls: Int = 0
  ) {
    self.storageSeconds = storageSeconds
    self.storageCalls = storageCalls
    self.study = study
    self.space = space
    self.settings = settings
    self.journal = journal
    self.seconds = seconds
    self.newTrials = newTrials
  }

  public struct TrialSummary: Encodable, Sendable {
    public var trial: Int
    public var state: String
    public var params: [String: JournalValue]
    public var metrics: [String: Double]
    public var seconds: Double?
  }

  public struct JSON: Encodable, Sendable {
    public var journal: String
    public var objectives: [String]
    public var constraints: [String]
    public var sampler: String
    public var trials: Int
    public var complete: Int
    public var pruned: Int
    public var failed: Int
    public var newTrials: Int
    public var seconds: Double
    public var trialsPerMinute: Double
    public var storageSeconds: Double
    public var storageCalls: Int
    /// Storage time per new trial: what keeping the study adds to each trial.
    public var storageMsPerTrial: Double
    public var best: TrialSummary?
    public var paretoFront: [TrialSummary]
    public var importance: [String: Double]
    public var bestPipeline: String?
  }

  func summary(_ t: TrialRecord) -> TrialSummary {
    TrialSummary(trial: t.number, state: t.state.rawValue, params: t.params, metrics: t.metrics, seconds: t.seconds)
  }

  public func json(bestPipeline: String?) -> JSON {
    JSON(
      journal: journal, objectives: settings.objectives.map(\.description),
      constraints: settings.constraints.map(\.description), sampler: settings.samplerName, trials: study.trials.count,
      complete: study.complete.count, pruned: study.trials.filter { $0.state == .pruned }.count,
      failed: study.trials.filter { $0.state == .failed }.count, newTrials: newTrials, seconds: seconds,
      trialsPerMinute: seconds > 0 ? Double(newTrials) / seconds * 60 : 0, storageSeconds: storageSeconds,
      storageCalls: storageCalls, storageMsPerTrial: storageMsPerTrial, best: study.best.map(summary),
      paretoFront: settings.objectives.count > 1 ? study.paretoFront.map(summary) : [],
      importance: Dictionary(uniqueKeysWithValues: study.importance(space: space).map { ($0.name, $0.share) }),
      bestPipeline: bestPipeline)
  }

  /// Storage milliseconds per new trial (0 when the run added none).
  public var storageMsPerTrial: Double { newTrials > 0 ? storageSeconds * 1000 / Double(newTrials) : 0 }

  public func text() -> String {
    var lines: [String] = []
    let pruned = study.trials.filter { $0.state == .pruned }.count
    let failed = study.trials.filter { $0.state == .failed }.count
    lines.append(
      "\(study.trials.count) trials: \(study.complete.count) complete, \(pruned) stopped early, \(failed) failed"
        + String(format: "; %d new in %.1f s", newTrials, seconds)
        + (seconds > 0 && newTrials > 0 ? String(format: " (%.2f trials/min)", Double(newTrials) / seconds * 60) : ""))
    if newTrials > 0 {
      lines.append(String(format: "storage: %.2f ms per trial (%d calls)", storageMsPerTrial, storageCalls))
    }
    if settings.objectives.count > 1 {
      let front = study.paretoFront
      lines.append(
        "Pareto front (\(front.count) trials, \(settings.objectives.map(\.description).joined(separator: ", "))):")
      for t in front { lines.append("  " + row(t)) }
    } else if let best = study.best {
      lines.append("best: " + row(best))
    } else {
      lines.append(
        "no trial met the constraints"
          + (settings.constraints.isEmpty
            ? "" : " (\(settings.constraints.map(\.description).joined(separator: ", ")))"))
    }
    let importance = study.importance(space: space)
    if !importance.isEmpty {
      lines.append("importance for \(settings.objectives[0]) (share of variance, first-order):")
      for (name, share) in importance.prefix(12) {
        lines.append(String(format: "  %5.1f%%  %@", share * 100, name))
      }
    }
    return lines.joined(separator: "\n")
  }

  private func row(_ t: TrialRecord) -> String {
    let metrics = settings.objectives.map(\.metric) + settings.constraints.map(\.metric)
    var seen = Set<String>()
    let shown = metrics.filter { seen.insert($0).inserted }.compactMap { m in
      t.metrics[m].map { "\(m) \(String(format: "%.6g", $0))" }
    }
    let values = space.dimensions.map { d in "\(d.name)=\(t.params[d.name]?.description ?? "?")" }
    return "trial \(t.number): " + shown.joined(separator: ", ") + "  " + values.joined(separator: " ")
  }
}
