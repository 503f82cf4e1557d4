import Foundation

/// Optuna's RDB schema at alembic revision v3.2.0.a (Optuna 3.2 to 5.x), table for table and
/// column for column as Optuna's SQLAlchemy models create it, so that `optuna.load_study`,
/// `optuna-dashboard` and Optuna's own workers read and write a Lathe study as one of theirs.
/// On PostgreSQL the enum columns are PostgreSQL enum types, as SQLAlchemy makes them.
enum OptunaSchema {
  /// The alembic revision Optuna checks before it opens a database.
  static let alembicRevision = "v3.2.0.a"
  /// `version_info.schema_version` of that revision.
  static let schemaVersion = 12
  /// What `version_info.library_version` says about the writer.
  static let writer = "lathe"

  static func statements(_ dialect: SQLDialect) -> [String] {
    let pg = dialect == .postgresql
    let id = pg ? "SERIAL NOT NULL" : "INTEGER NOT NULL"
    let datetime = pg ? "TIMESTAMP WITHOUT TIME ZONE" : "DATETIME"
    let float = pg ? "DOUBLE PRECISION" : "FLOAT"
    let direction = pg ? "studydirection" : "VARCHAR(8)"
    let state = pg ? "trialstate" : "VARCHAR(8)"
    let valueType = pg ? "trialvaluetype" : "VARCHAR(7)"
    let intermediateType = pg ? "trialintermediatevaluetype" : "VARCHAR(7)"
    var sql: [String] = []
    var trialAttributes: [String] = []
    if pg {
      sql += [
        "CREATE TYPE studydirection AS ENUM ('NOT_SET', 'MINIMIZE', 'MAXIMIZE')",
        "CREATE TYPE trialstate AS ENUM ('RUNNING', 'COMPLETE', 'PRUNED', 'FAIL', 'WAITING')",
        "CREATE TYPE trialvaluetype AS ENUM ('FINITE', 'INF_POS', 'INF_NEG')",
        "CREATE TYPE trialintermediatevaluetype AS ENUM ('FINITE', 'INF_POS', 'INF_NEG', 'NAN')",
      ]
    }
    sql += [
      """
      CREATE TABLE studies (study_id \(id), study_name VARCHAR(512) NOT NULL, PRIMARY KEY (study_id))
      """,
      "CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name)",
      """
      CREATE TABLE version_info (version_info_id INTEGER NOT NULL, schema_version INTEGER,
        library_version VARCHAR(256), PRIMARY KEY (version_info_id), CHECK (version_info_id=1))
      """,
      """
      CREATE TABLE study_directions (study_direction_id \(id), direction \(direction) NOT NULL,
        study_id INTEGER NOT NULL, objective INTEGER NOT NULL, PRIMARY KEY (study_direction_id),
        UNIQUE (study_id, objective), FOREIGN KEY(study_id) REFERENCES studies (study_id))
      """,
    ]
    for owner in ["study", "trial"] {
      for kind in ["user", "system"] {
        let table = "\(owner)_\(kind)_attributes"
        let parent = owner == "study" ? "studies (study_id)" : "trials (trial_id)"
        let create = """
          CREATE TABLE \(table) (\(owner)_\(kind)_attribute_id \(id), \(owner)_id INTEGER, "key" VARCHAR(512),
            value_json TEXT, PRIMARY KEY (\(owner)_\(kind)_attribute_id), UNIQUE (\(owner)_id, "key"),
            FOREIGN KEY(\(owner)_id) REFERENCES \(parent))
          """
        if owner == "study" { sql.append(create) } else { trialAttributes.append(create) }
      }
    }
    sql += [
      """
      CREATE TABLE trials (trial_id \(id), number INTEGER, study_id INTEGER, state \(state) NOT NULL,
        datetime_start \(datetime), datetime_complete \(datetime), PRIMARY KEY (trial_id),
        FOREIGN KEY(study_id) REFERENCES studies (study_id))
      """,
      "CREATE INDEX ix_trials_study_id ON trials (study_id)",
    ]
    sql += trialAttributes
    trialAttributes = []
    sql += [
      """
      CREATE TABLE trial_params (param_id \(id), trial_id INTEGER, param_name VARCHAR(512),
        param_value \(float), distribution_json TEXT, PRIMARY KEY (param_id), UNIQUE (trial_id, param_name),
        FOREIGN KEY(trial_id) REFERENCES trials (trial_id))
      """,
      """
      CREATE TABLE trial_values (trial_value_id \(id), trial_id INTEGER NOT NULL, objective INTEGER NOT NULL,
        value \(float), value_type \(valueType) NOT NULL, PRIMARY KEY (trial_value_id),
        UNIQUE (trial_id, objective), FOREIGN KEY(trial_id) REFERENCES trials (trial_id))
      """,
      """
      CREATE TABLE trial_intermediate_values (trial_intermediate_value_id \(id), trial_id INTEGER NOT NULL,
        step INTEGER NOT NULL, intermediate_value \(float), intermediate_value_type \(intermediateType) NOT NULL,
        PRIMARY KEY (trial_intermediate_value_id), UNIQUE (trial_id, step),
        FOREIGN KEY(trial_id) REFERENCES trials (trial_id))
      """,
      """
      CREATE TABLE trial_heartbeats (trial_heartbeat_id \(id), trial_id INTEGER NOT NULL,
        heartbeat \(datetime) NOT NULL, PRIMARY KEY (trial_heartbeat_id), UNIQUE (trial_id),
        FOREIGN KEY(trial_id) REFERENCES trials (trial_id))
      """,
      """
      CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,
        CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))
      """,
      "INSERT INTO alembic_version (version_num) VALUES ('\(alembicRevision)')",
      """
      INSERT INTO version_info (version_info_id, schema_version, library_version)
        VALUES (1, \(schemaVersion), '\(writer)')
      """,
    ]
    return sql
  }

  /// Whether `table` exists.
  static func tableExists(_ table: String, on connection: SQLConnection) throws -> Bool {
    switch connection.dialect {
    case .sqlite:
      return try !connection.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", [.text(table)])
        .isEmpty
    case .postgresql:
      return try connection.query("SELECT CAST(to_regclass(?) AS TEXT)", [.text(table)]).first?.first != .null
    }
  }

  /// Creates the schema in an empty database, or checks that a database holds this revision.
  static func prepare(_ connection: SQLConnection) throws {
    try connection.transaction {
      // Two workers starting together on an empty server must not both create the schema.
      if connection.dialect == .postgresql { try connection.execute("SELECT pg_advisory_xact_lock(1819565173)") }
      if try tableExists("alembic_version", on: connection) {
        let revision = try connection.query("SELECT version_num FROM alembic_version").first?.first?.text
        guard revision == alembicRevision else {
          throw StudyStoreError(
            "\(connection.location): alembic_version: expected Optuna's schema revision \(alembicRevision) "
              + "(Optuna 3.2 and later), got \(revision ?? "none"); run `optuna storage upgrade` on it first")
        }
        return
      }
      guard try !tableExists("studies", on: connection) else {
        throw StudyStoreError(
          "\(connection.location): has a studies table but no alembic_version: not a database Optuna or Lathe made")
      }
      for statement in statements(connection.dialect) { try connection.execute(statement) }
    }
  }
}
