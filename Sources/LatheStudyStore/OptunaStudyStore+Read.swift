import Foundation
import LatheSearch

/// The study's rows back as the events that wrote them: one `study` event, then per trial its
/// `start`, a `report` per rung, a `heartbeat` while it runs and its `finish`.
extension OptunaStudyStore {
  func readEvents(_ studyID: Int) throws -> [JournalEvent] {
    let id: [SQLValue] = [.int(Int64(studyID))]
    let dialect = connection.dialect
    var events = [try header(studyID)]
    let trials = try connection.query(
      """
      SELECT trial_id, number, CAST(state AS TEXT), \(dialect.timestampText("datetime_start")),
        \(dialect.timestampText("datetime_complete"))
      FROM trials WHERE study_id = ? ORDER BY number, trial_id
      """, id)
    let params = try perTrial("trial_params", ["param_name", "param_value", "distribution_json"], studyID)
    let values = try perTrial("trial_values", ["objective", "value", "CAST(r.value_type AS TEXT)"], studyID)
    let steps = try perTrial(
      "trial_intermediate_values", ["step", "intermediate_value", "CAST(r.intermediate_value_type AS TEXT)"], studyID)
    let system = try perTrial("trial_system_attributes", ["\"key\"", "value_json"], studyID)
    let beats = try perTrial("trial_heartbeats", [dialect.secondsSince("r.heartbeat")], studyID)
    let now = Date().timeIntervalSince1970
    var waiting = 0
    for row in trials {
      guard let trialID = row[0].int, let number = row[1].int, let state = row[2].text else {
        throw StudyStoreError(
          "\(location): trials row \(row[0]): expected a trial number and a state, got \(row[1]) and \(row[2])")
      }
      if state == "WAITING" {
        waiting += 1
        continue
      }
      guard ["RUNNING", "COMPLETE", "PRUNED", "FAIL"].contains(state) else {
        throw StudyStoreError(
          "\(location): trials.state of trial \(number): expected RUNNING, COMPLETE, PRUNED, FAIL or WAITING, "
            + "got \(state.prefix(40))")
      }
      let attributes = Dictionary(
        (system[trialID] ?? []).compactMap { r in r[1].text.map { ($0, r[2].text ?? "null") } },
        uniquingKeysWith: { a, _ in a })
      let started = row[3].text.flatMap(LocalTimestamp.seconds) ?? 0
      var start = JournalEvent(event: .start, trial: number, time: started)
      start.unit = attributes["lathe:unit"].flatMap { decode([Double].self, $0) }
      var decoded: [String: JournalValue] = [:]
      for p in params[trialID] ?? [] {
        let name = p[1].text ?? "?"
        guard let value = p[2].double, let distribution = p[3].text,
          let parameter = OptunaDistribution.value(value, distribution: distribution)
        else {
          throw StudyStoreError(
            "\(location): trial_params of trial \(number) (\(name.prefix(40))): expected a param_value and "
              + "Optuna's distribution_json for it, got \(p[2]) and \(String(describing: p[3]).prefix(60))")
        }
        decoded[name] = parameter
      }
      start.params = decoded
      start.host = attributes["lathe:host"].flatMap { decode(String.self, $0) }
      start.pid = attributes["lathe:pid"].flatMap { decode(Int32.self, $0) }
      start.retryOf = attributes["failed_trial"].flatMap { decode(Int.self, $0) }
      events.append(start)
      let rungs = (steps[trialID] ?? []).compactMap { r -> (Int, Double)? in
        guard let step = r[1].int else { return nil }
        return (step, Self.number(r[2], type: r[3].text))
      }.sorted { $0.0 < $1.0 }
      for (step, value) in rungs {
        var report = JournalEvent(event: .report, trial: number, time: started)
        report.budget = step
        report.metrics =
          attributes["lathe:rung:\(step)"].flatMap { decode([String: Double].self, $0) }
          ?? objectiveMetrics.first.map { [$0: value] } ?? [:]
        events.append(report)
      }
      switch state {
      case "RUNNING":
        if let age = beats[trialID]?.first?[1].double {
          events.append(JournalEvent(event: .heartbeat, trial: number, time: now - age))
        }
      default:
        let finished = row[4].text.flatMap(LocalTimestamp.seconds) ?? started
        var finish = JournalEvent(event: .finish, trial: number, time: finished)
        finish.state = state == "COMPLETE" ? .complete : state == "PRUNED" ? .pruned : .failed
        var metrics = attributes["lathe:metrics"].flatMap { decode([String: Double].self, $0) }
        if metrics == nil {
          // A trial Optuna ran: its values under the objectives' metric names.
          metrics = [:]
          for v in values[trialID] ?? [] {
            guard let objective = v[1].int, objective < objectiveMetrics.count else { continue }
            metrics![objectiveMetrics[objective]] = Self.number(v[2], type: v[3].text)
          }
        }
        finish.metrics = metrics
        finish.error = attributes["fail_reason"].flatMap { decode(String.self, $0) }
        finish.seconds = attributes["lathe:seconds"].flatMap { decode(Double.self, $0) } ?? (finished - started)
        events.append(finish)
      }
    }
    // What the runner and samplers rely on (trial numbers and budgets in range, points in
    // [0, 1]): the journal's checks, so a damaged database stops here with its place named.
    for event in events {
      if let problem = event.problem {
        throw StudyStoreError("\(location): trial \(event.trial.map(String.init) ?? "?"): \(problem)")
      }
    }
    if waiting > 0 {
      let note = "\(location): \(waiting) waiting trials (enqueued by Optuna) are left for Optuna to run"
      if !warnings.contains(note) { warnings.append(note) }
    }
    return events
  }

  /// The `study` event: Lathe's header attributes, or for a study Optuna made, its directions
  /// and metric names only (no space: the runner then checks the trials fit its own).
  private func header(_ studyID: Int) throws -> JournalEvent {
    let id: [SQLValue] = [.int(Int64(studyID))]
    var header = JournalEvent(event: .study, time: 0)
    let user = try connection.query("SELECT \"key\", value_json FROM study_user_attributes WHERE study_id = ?", id)
    for row in user {
      guard let key = row[0].text, let json = row[1].text else { continue }
      switch key {
      case "lathe:pipeline": header.pipeline = decode(String.self, json)
      case "lathe:space": header.space = decode(String.self, json)
      case "lathe:sampler": header.sampler = decode(String.self, json)
      case "lathe:seed": header.seed = decode(UInt64.self, json)
      case "best_pipeline": header.bestPipeline = decode(String.self, json)
      default: break
      }
    }
    let directions = try connection.query(
      "SELECT CAST(direction AS TEXT) FROM study_directions WHERE study_id = ? ORDER BY objective", id
    ).compactMap { $0.first?.text?.lowercased() }
    let names =
      try connection.query(
        "SELECT value_json FROM study_system_attributes WHERE study_id = ? AND \"key\" = 'study:metric_names'", id
      ).first?.first?.text.flatMap { decode([String].self, $0) } ?? []
    header.objectives = directions.enumerated().map { i, direction in
      i < names.count ? "\(direction) \(names[i])" : direction
    }
    return header
  }

  /// The rows of a per-trial table (aliased `r`) for this study's trials, by trial id; each row
  /// is the trial id and then `columns` (plain names are `r.`'s, expressions as written).
  private func perTrial(_ table: String, _ columns: [String], _ studyID: Int) throws -> [Int: [[SQLValue]]] {
    let selected = columns.map { $0.contains("(") || $0.contains(".") ? $0 : "r.\($0)" }
    let rows = try connection.query(
      "SELECT r.trial_id, \(selected.joined(separator: ", ")) FROM \(table) r "
        + "JOIN trials t ON t.trial_id = r.trial_id WHERE t.study_id = ?", [.int(Int64(studyID))])
    return Dictionary(grouping: rows) { $0[0].int ?? -1 }
  }

  /// A value column with its Optuna type column (`INF_POS` and the like for what SQL can't hold).
  static func number(_ value: SQLValue, type: String?) -> Double {
    switch type {
    case "INF_POS": return .infinity
    case "INF_NEG": return -.infinity
    case "NAN": return .nan
    default: return value.double ?? .nan
    }
  }

  func decode<T: Decodable>(_ type: T.Type, _ json: String) -> T? {
    try? Self.decoder.decode(T.self, from: Data(json.utf8))
  }

  /// One decoder for every attribute (making one per value showed in profiles); reads the
  /// non-finite numbers Lathe writes as strings.
  private static let decoder: JSONDecoder = {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
    return decoder
  }()
}
