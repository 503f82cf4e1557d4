import Foundation
import LatheSearch

/// Writes the runner's events as Optuna's rows, inside the store's transaction.
struct OptunaRowWriter {
  let store: OptunaStudyStore
  let studyID: Int
  var connection: SQLConnection { store.connection }
  var dialect: SQLDialect { connection.dialect }

  mutating func write(_ event: JournalEvent) throws {
    switch event.event {
    case .study: try writeHeader(event)
    case .start: try writeStart(event)
    case .report: try writeReport(event)
    case .finish: try writeFinish(event)
    case .heartbeat: break  // heartbeats go through `beat`, in the database's clock
    }
  }

  // MARK: - Study

  private func writeHeader(_ event: JournalEvent) throws {
    if let objectives = event.objectives { try writeObjectives(objectives) }
    let attributes: [(String, Encodable?)] = [
      ("lathe:pipeline", event.pipeline), ("lathe:space", event.space), ("lathe:sampler", event.sampler),
      ("lathe:seed", event.seed), ("best_pipeline", event.bestPipeline),
    ]
    for case (let key, let value?) in attributes {
      try setAttribute("study_user_attributes", "study_id", studyID, key, value)
    }
  }

  /// The study's directions, once, and its metric names (Optuna's `set_metric_names`, what
  /// optuna-dashboard titles its charts with).
  private func writeObjectives(_ texts: [String]) throws {
    let objectives = texts.map { text -> (direction: String, metric: String) in
      let words = text.split(separator: " ", maxSplits: 1).map(String.init)
      return (words.first == "maximize" ? "MAXIMIZE" : "MINIMIZE", words.count > 1 ? words[1] : "value")
    }
    let id = SQLValue.int(Int64(studyID))
    let existing = try connection.query("SELECT COUNT(*) FROM study_directions WHERE study_id = ?", [id])
    if existing.first?.first?.int == 0 {
      for (index, objective) in objectives.enumerated() {
        try connection.execute(
          "INSERT INTO study_directions (direction, study_id, objective) VALUES ('\(objective.direction)', ?, ?)",
          [id, .int(Int64(index))])
      }
    }
    try setAttribute("study_system_attributes", "study_id", studyID, "study:metric_names", objectives.map(\.metric))
  }

  // MARK: - Trials

  private func writeStart(_ event: JournalEvent) throws {
    let number = event.trial!
    let rows = try connection.query(
      """
      INSERT INTO trials (number, study_id, state, datetime_start)
        VALUES (?, ?, 'RUNNING', \(dialect.timestampParameter)) RETURNING trial_id
      """, [.int(Int64(number)), .int(Int64(studyID)), .text(LocalTimestamp.text(event.time))])
    guard let trialID = rows.first?.first?.int else {
      throw StudyStoreError("\(store.location): trial \(number): the database returned no trial_id")
    }
    for dimension in store.space.dimensions {
      guard let value = event.params?[dimension.name],
        let internalValue = OptunaDistribution.internalValue(value, of: dimension)
      else { continue }
      try connection.execute(
        "INSERT INTO trial_params (trial_id, param_name, param_value, distribution_json) VALUES (?, ?, ?, ?)",
        [
          .int(Int64(trialID)), .text(dimension.name), .double(internalValue),
          .text(OptunaDistribution.json(dimension)),
        ])
    }
    if let unit = event.unit { try setTrialAttribute(trialID, "lathe:unit", unit) }
    if let host = event.host { try setTrialAttribute(trialID, "lathe:host", host) }
    if let pid = event.pid { try setTrialAttribute(trialID, "lathe:pid", pid) }
    if let retryOf = event.retryOf {
      // The keys Optuna's RetryFailedTrialCallback writes, so Optuna's tools see the retry too.
      try setTrialAttribute(trialID, "failed_trial", retryOf)
      try setTrialAttribute(trialID, "retry_history", [retryOf])
    }
    if store.heartbeatInterval != nil {
      try connection.execute(
        "INSERT INTO trial_heartbeats (trial_id, heartbeat) VALUES (?, \(dialect.now))", [.int(Int64(trialID))])
    }
  }

  private func writeReport(_ event: JournalEvent) throws {
    guard let trialID = try runningTrialID(event.trial!), let budget = event.budget else { return }
    let metrics = event.metrics ?? [:]
    let value = store.objectiveMetrics.first.flatMap { metrics[$0] } ?? .nan
    try connection.execute(
      """
      INSERT INTO trial_intermediate_values (trial_id, step, intermediate_value, intermediate_value_type)
        VALUES (?, ?, ?, '\(Self.intermediateType(value))')
      """, [.int(Int64(trialID)), .int(Int64(budget)), value.isFinite ? .double(value) : .null])
    try setTrialAttribute(trialID, "lathe:rung:\(budget)", metrics)
  }

  private func writeFinish(_ event: JournalEvent) throws {
    // A trial already finished (a worker thought lost that came back) keeps its first end.
    guard let trialID = try runningTrialID(event.trial!) else { return }
    let state: String
    switch event.state ?? .failed {
    case .complete: state = "COMPLETE"
    case .pruned: state = "PRUNED"
    case .failed, .running: state = "FAIL"
    }
    try connection.execute(
      "UPDATE trials SET state = '\(state)', datetime_complete = \(dialect.timestampParameter) WHERE trial_id = ?",
      [.text(LocalTimestamp.text(event.time)), .int(Int64(trialID))])
    let metrics = event.metrics ?? [:]
    // Optuna's values: every objective of a complete trial; a pruned one keeps its last
    // intermediate value as its value, as Optuna's `tell` does, for a single objective.
    var values: [Double] = []
    if state == "COMPLETE" {
      values = store.objectiveMetrics.compactMap { metrics[$0] }
      if values.count != store.objectiveMetrics.count { values = [] }
    } else if state == "PRUNED", store.objectiveMetrics.count == 1, let last = metrics[store.objectiveMetrics[0]] {
      values = [last]
    }
    for (objective, value) in values.enumerated() where !value.isNaN {
      try connection.execute(
        "INSERT INTO trial_values (trial_id, objective, value, value_type) VALUES (?, ?, ?, '\(Self.valueType(value))')",
        [.int(Int64(trialID)), .int(Int64(objective)), value.isFinite ? .double(value) : .null])
    }
    for (name, value) in metrics {
      try setAttribute("trial_user_attributes", "trial_id", trialID, name, RawJSON(number: value))
    }
    try setTrialAttribute(trialID, "lathe:metrics", metrics)
    if let seconds = event.seconds { try setTrialAttribute(trialID, "lathe:seconds", seconds) }
    if let error = event.error { try setTrialAttribute(trialID, "fail_reason", error) }
  }

  private func runningTrialID(_ number: Int) throws -> Int? {
    try connection.query(
      "SELECT trial_id FROM trials WHERE study_id = ? AND number = ? AND CAST(state AS TEXT) = 'RUNNING'",
      [.int(Int64(studyID)), .int(Int64(number))]
    ).first?.first?.int
  }

  // MARK: - Attributes

  private func setTrialAttribute(_ trialID: Int, _ key: String, _ value: Encodable) throws {
    try setAttribute("trial_system_attributes", "trial_id", trialID, key, value)
  }

  /// Inserts or replaces one attribute, its value as JSON (Optuna's `value_json`).
  private func setAttribute(_ table: String, _ owner: String, _ id: Int, _ key: String, _ value: Encodable) throws {
    let json: String
    if let raw = value as? RawJSON {
      json = raw.text
    } else {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
      json = String(decoding: try encoder.encode(value), as: UTF8.self)
    }
    try connection.execute(
      """
      INSERT INTO \(table) (\(owner), "key", value_json) VALUES (?, ?, ?)
      ON CONFLICT (\(owner), "key") DO UPDATE SET value_json = excluded.value_json
      """, [.int(Int64(id)), .text(key), .text(json)])
  }

  static func valueType(_ v: Double) -> String { v == .infinity ? "INF_POS" : v == -.infinity ? "INF_NEG" : "FINITE" }

  static func intermediateType(_ v: Double) -> String { v.isNaN ? "NAN" : valueType(v) }
}

/// A number as Python's `json.dumps` writes it (bare `Infinity` and `NaN`), so Optuna's
/// `json.loads` gives the user attribute back as a float.
private struct RawJSON: Encodable {
  var text: String
  init(number: Double) {
    if number.isNaN {
      text = "NaN"
    } else if number.isInfinite {
      text = number > 0 ? "Infinity" : "-Infinity"
    } else {
      text = "\(number)"
    }
  }
  func encode(to encoder: Encoder) throws {}
}
