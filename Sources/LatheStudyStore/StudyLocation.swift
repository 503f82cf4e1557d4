import Foundation
import LatheSearch

/// Where `lathe search` keeps a study, from `--storage`: `sqlite:///path/NAME.study.db` (or a
/// path ending in `.db`), `postgresql://user@host[:port]/database`, or a `.jsonl` journal.
public enum StudyLocation: Equatable, CustomStringConvertible {
  case sqlite(path: String)
  case postgresql(url: String)
  case journal(path: String)

  public init(_ text: String) throws {
    if text.hasPrefix("sqlite:///") {
      // sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy (and Optuna) read them.
      let path = String(text.dropFirst("sqlite:///".count))
      guard !path.isEmpty else { throw StudyStoreError("\(text): expected sqlite:///PATH, with a file path") }
      self = .sqlite(path: path)
    } else if text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") {
      self = .postgresql(url: text)
    } else if text.contains("://") {
      throw StudyStoreError(
        "\(text): unknown storage; expected sqlite:///PATH, postgresql://USER@HOST/DATABASE or a .jsonl journal")
    } else if text.hasSuffix(".jsonl") {
      self = .journal(path: text)
    } else {
      self = .sqlite(path: text)
    }
  }

  /// The URL Optuna and optuna-dashboard take for this study (nil for a journal).
  public var optunaURL: String? {
    switch self {
    case .sqlite(let path): return "sqlite:///" + path
    case .postgresql(let url): return url
    case .journal: return nil
    }
  }

  public var description: String {
    switch self {
    case .sqlite(let path), .journal(let path): return path
    case .postgresql(let url): return Self.redacted(url)
    }
  }

  /// The URL without its password, for messages.
  public static func redacted(_ url: String) -> String {
    guard let scheme = url.range(of: "://"), let at = url.range(of: "@", range: scheme.upperBound..<url.endIndex),
      let colon = url.range(of: ":", range: scheme.upperBound..<at.lowerBound)
    else { return url }
    return String(url[..<colon.lowerBound]) + String(url[at.lowerBound...])
  }

  /// Whether a study named `name` is there already (with at least one trial or a header).
  public func holdsStudy(named name: String) throws -> Bool {
    switch self {
    case .journal(let path):
      let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int ?? 0
      return size > 0
    case .sqlite(let path):
      guard FileManager.default.fileExists(atPath: path) else { return false }
      fallthrough
    case .postgresql:
      let connection = try connect()
      defer { connection.close() }
      guard try OptunaSchema.tableExists("studies", on: connection) else { return false }
      return try !connection.query("SELECT study_id FROM studies WHERE study_name = ?", [.text(name)]).isEmpty
    }
  }

  /// Opens the study `name` here.
  public func open(
    studyName name: String, space: SearchSpace, objectiveMetrics: [String], heartbeatInterval: Double? = 10
  ) throws -> any StudyStorage {
    switch self {
    case .journal(let path):
      return StudyJournal(url: URL(fileURLWithPath: path))
    case .sqlite, .postgresql:
      return try OptunaStudyStore(
        connection: try connect(), studyName: name, space: space, objectiveMetrics: objectiveMetrics,
        heartbeatInterval: heartbeatInterval)
    }
  }

  func connect() throws -> SQLConnection {
    switch self {
    case .sqlite(let path): return try SQLiteStudyConnection(path: path)
    case .postgresql(let url): return try PostgresStudyConnection(url: url)
    case .journal(let path): throw StudyStoreError("\(path): a journal is not a database")
    }
  }
}
