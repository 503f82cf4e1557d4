import Foundation
import LatheIO

/// The `themes/` folder: finding it, listing it, loading a theme by name.
public struct ThemeLibrary: Sendable {
  /// nil when no folder was found; only the built-in theme is then available.
  public let directory: URL?

  public init(directory: URL?) { self.directory = directory }

  /// `$LATHE_THEMES` if set; else the first `themes` folder found walking up from the running
  /// executable, then from this source file (like `SamplesDirectory`).
  public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) -> ThemeLibrary {
    if let path = environment["LATHE_THEMES"], !path.isEmpty {
      return ThemeLibrary(directory: URL(fileURLWithPath: (path as NSString).expandingTildeInPath))
    }
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
      .map { URL(fileURLWithPath: $0).deletingLastPathComponent() }
    for start in [executable, URL(fileURLWithPath: #filePath).deletingLastPathComponent()] {
      if let start, let found = search(upFrom: start) { return ThemeLibrary(directory: found) }
    }
    return ThemeLibrary(directory: nil)
  }

  /// `<ancestor>/themes` holding a `default.theme`, nearest first.
  static func search(upFrom directory: URL) -> URL? {
    var current = directory.standardizedFileURL
    while true {
      let themes = current.appendingPathComponent("themes")
      if FileManager.default.fileExists(atPath: themes.appendingPathComponent("default.theme").path) {
        return themes
      }
      let parent = current.deletingLastPathComponent()
      if parent.path == current.path { return nil }
      current = parent
    }
  }

  /// Theme names in the folder, "default" first, then alphabetical; ["default"] without one.
  public func names() -> [String] {
    guard let directory,
      let files = try? FileManager.default.contentsOfDirectory(atPath: directory.path)
    else { return ["default"] }
    let names = files.filter { $0.hasSuffix(".theme") }.map { String($0.dropLast(6)) }
    return ["default"] + names.filter { $0 != "default" }.sorted()
  }

  /// A theme file named by path rather than by name: it has a `/` or ends in `.theme`.
  static func isPath(_ name: String) -> Bool { name.contains("/") || name.hasSuffix(".theme") }

  /// Whether `load` finds `name`: one of `names()`, or a theme file that exists.
  public func contains(_ name: String) -> Bool {
    if Self.isPath(name) { return FileManager.default.fileExists(atPath: (name as NSString).expandingTildeInPath) }
    return names().contains(name)
  }

  /// `name` when `load` finds it; else an error that lists the themes there are.
  public func check(_ name: String) throws(UnknownThemeError) {
    guard contains(name) else { throw UnknownThemeError(name: name, known: names()) }
  }

  /// Loads a theme by name, or from a file when `name` is a path (`isPath`); unreadable or
  /// missing files give the built-in theme and a warning.
  public func load(_ name: String) -> (Theme, [ThemeWarning]) {
    let file: URL
    if Self.isPath(name) {
      file = URL(fileURLWithPath: (name as NSString).expandingTildeInPath)
    } else if let directory {
      file = directory.appendingPathComponent(name + ".theme")
    } else {
      if name == "default" { return (.builtIn, []) }
      return (.builtIn, [ThemeWarning(line: 0, message: "no themes folder; using the built-in theme")])
    }
    let text: String
    do {
      // Bounded: a huge file would otherwise be read whole and split into lines at start-up.
      text = try TextFile.read(file, limit: ThemeFile.maxBytes)
    } catch {
      return (
        .builtIn, [ThemeWarning(line: 0, message: "\(Self.problem(error)); using the built-in theme", file: file.path)]
      )
    }
    // A theme file is called by its name in the header, not by its whole path.
    return ThemeFile.parse(
      text, name: Self.isPath(name) ? file.deletingPathExtension().lastPathComponent : name, file: file.path)
  }

  /// The failure without the path (the warning names the file already).
  static func problem(_ error: LatheIOError) -> String {
    switch error {
    case .tooLarge(_, let limit): return "larger than the \(limit) bytes a theme may have"
    case .unreadable(_, let reason): return "cannot read the file (\(reason))"
    default: return "not a text file"
    }
  }
}

/// A theme name that is neither in the themes folder nor a theme file.
public struct UnknownThemeError: Error, CustomStringConvertible, Equatable {
  public var name: String
  /// The themes there are.
  public var known: [String]
  public var description: String {
    "unknown theme \"\(name)\"; the themes are \(known.joined(separator: ", ")), or a path to a .theme file"
  }
}
