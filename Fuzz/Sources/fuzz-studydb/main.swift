import Foundation
import FuzzSupport
import LatheSearch
import LatheStudyStore

// A study database in Optuna's schema, damaged: each input line overwrites one cell of a real
// Lathe study (byte 0 picks the table, byte 1 the column, byte 2 the row, the rest is the new
// value: a number when it reads as one, else text), then the study is read as `lathe search
// --resume` reads it and ranked. Structured like this because mutating the SQLite file's
// bytes mostly gives "file is not a database"; the cells are what other tools write.
private let space = SearchSpace([
  SearchDimension(name: "lr", kind: .float(low: 0.001, high: 0.1, log: true)),
  SearchDimension(name: "epochs", kind: .int(low: 2, high: 10, log: false)),
  SearchDimension(name: "optimizer", kind: .choice([.string("sgd"), .string("adam")])),
])
private let objectives = [Objective(.minimize, "value")]
private let columns: [(table: String, columns: [String])] = [
  ("trials", ["number", "state", "datetime_start", "datetime_complete", "study_id"]),
  ("trial_params", ["param_name", "param_value", "distribution_json", "trial_id"]),
  ("trial_values", ["objective", "value", "value_type"]),
  ("trial_intermediate_values", ["step", "intermediate_value", "intermediate_value_type"]),
  ("trial_system_attributes", ["key", "value_json"]),
  ("trial_user_attributes", ["key", "value_json"]),
  ("study_user_attributes", ["key", "value_json"]),
  ("study_system_attributes", ["key", "value_json"]),
  ("study_directions", ["direction", "objective"]),
  ("trial_heartbeats", ["heartbeat"]),
  ("alembic_version", ["version_num"]),
]

private func settings() -> StudySettings {
  var s = StudySettings()
  s.objectives = objectives
  s.pruner = .successiveHalving
  s.budget = BudgetSetting(step: "f", scale: [], min: 1, max: 9, eta: 3)
  return s
}

private func store(_ url: URL) throws -> OptunaStudyStore {
  try OptunaStudyStore(
    connection: try SQLiteStudyConnection(path: url.path), studyName: "s", space: space,
    objectiveMetrics: objectives.map(\.metric), heartbeatInterval: 10)
}

private func runner(_ storage: any StudyStorage) -> StudyRunner {
  StudyRunner(
    configuration: .init(space: space, settings: settings(), sampler: RandomSampler(), trials: 8, jobs: 1),
    storage: storage,
    executor: ClosureExecutor { request in
      if request.number == 5 { throw CocoaError(.featureUnsupported) }
      return ["value": request.unit[0] / Double(request.budget ?? 1), "size_bytes": 1000]
    })
}

/// The undamaged study, made once: eight trials, some stopped early, one failed.
private let base: Data = {
  let url = FuzzInput.scratchURL(extension: "base.db")
  try? FileManager.default.removeItem(at: url)
  do {
    _ = try runner(try store(url)).run()
    return try Data(contentsOf: url)
  } catch {
    fatalError("cannot make the base study: \(error)")
  }
}()
private let url = FuzzInput.scratchURL(extension: "db")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  FileManager.default.createFile(atPath: url.path, contents: base)
  guard let connection = try? SQLiteStudyConnection(path: url.path) else { fatalError("cannot open the copy") }
  for line in FuzzInput.bytes(data, size).split(separator: 0x0A, omittingEmptySubsequences: true) where line.count >= 3 {
    let bytes = Array(line)
    let (table, names) = columns[Int(bytes[0]) % columns.count]
    let column = names[Int(bytes[1]) % names.count]
    let text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
    let value: SQLValue = Double(text).map { .double($0) } ?? (text == "NULL" ? .null : .text(text))
    try? connection.execute(
      "UPDATE \(table) SET \"\(column)\" = ? WHERE rowid = ?", [value, .int(Int64(bytes[2] % 16))])
  }
  connection.close()
  do {
    let storage = try store(url)
    let study = runner(storage).study(try storage.read())
    _ = study.best
    _ = study.paretoFront
    _ = study.bestSoFar
    _ = study.observations(dimensions: space.count)
    _ = study.counted
  } catch {
    FuzzInput.checkOneLine(error)
  }
  return 0
}
