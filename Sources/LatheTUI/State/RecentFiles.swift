import Foundation

/// The files last opened or saved in the workbench, newest first, kept in `recent.json` of the
/// state folder so the Open screen can offer them the next day.
public struct RecentFiles: Codable, Equatable, Sendable {
  public struct Entry: Codable, Equatable, Sendable {
    /// Absolute path.
    public var path: String
    public var kind: OpenKind
    public init(path: String, kind: OpenKind) {
      self.path = path
      self.kind = kind
    }
  }

  /// How many are kept.
  public static let limit = 20

  public var entries: [Entry]

  public init(entries: [Entry] = []) { self.entries = entries }

  /// Puts `path` first, once, dropping the oldest beyond `limit`.
  public mutating func add(_ path: String, kind: OpenKind) {
    entries.removeAll { $0.path == path }
    entries.insert(Entry(path: path, kind: kind), at: 0)
    if entries.count > Self.limit { entries.removeLast(entries.count - Self.limit) }
  }
}

/// What the workbench remembers about itself between runs, in `settings.json` of the state
/// folder: the theme and the layout (which Home panel had focus). Fields the file lacks keep
/// their defaults, so an older or hand-edited file still loads.
public struct WorkbenchSettings: Codable, Equatable, Sendable {
  /// The theme's name (or file) last used.
  public var theme: String?
  /// The Home screen panel that had focus: "model", "pipeline" or "charts".
  public var focus: String?

  public init(theme: String? = nil, focus: String? = nil) {
    self.theme = theme
    self.focus = focus
  }
}

/// The state files the workbench keeps, in one state folder.
public struct WorkbenchMemory: Sendable {
  public let folder: StateFolder

  public init(folder: StateFolder) { self.folder = folder }

  var recentFile: StateFile<RecentFiles> { StateFile(url: folder.file("recent.json")) }
  var settingsFile: StateFile<WorkbenchSettings> { StateFile(url: folder.file("settings.json")) }

  /// The settings, or defaults and a warning when the file is malformed.
  public func settings() -> (WorkbenchSettings, warning: String?) {
    let (value, warning) = settingsFile.load()
    return (value ?? WorkbenchSettings(), warning)
  }

  public func recent() -> (RecentFiles, warning: String?) {
    let (value, warning) = recentFile.load()
    return (value ?? RecentFiles(), warning)
  }

  public func save(_ settings: WorkbenchSettings) throws { try settingsFile.save(settings) }
  public func save(_ recent: RecentFiles) throws { try recentFile.save(recent) }
}
