import Foundation
import LatheIO

/// How far the learner got in each tutorial, kept between runs in
/// `$XDG_STATE_HOME/lathe/tutorials.json` (or `~/.local/state/lathe/tutorials.json`).
public struct TutorialProgress: Codable, Sendable, Equatable {
  public struct Entry: Codable, Sendable, Equatable {
    /// The step to resume at (0-based).
    public var step: Int
    public var completed: Bool
    /// Values kept by `keep:` so far.
    public var kept: [String: String]
    public init(step: Int = 0, completed: Bool = false, kept: [String: String] = [:]) {
      self.step = step
      self.completed = completed
      self.kept = kept
    }
  }

  public var tutorials: [String: Entry]
  public init(tutorials: [String: Entry] = [:]) { self.tutorials = tutorials }
}

/// Why progress could not be written.
public struct TutorialProgressError: Error, CustomStringConvertible {
  public var description: String
}

/// Reads and writes the progress file. Writes go to a temporary file renamed over the old one,
/// so a crash mid-write never leaves half a file.
public struct TutorialProgressStore: Sendable {
  public let url: URL

  public init(url: URL) { self.url = url }

  /// The store in the user's state folder (`StateFolder`).
  public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment)
    -> TutorialProgressStore
  {
    TutorialProgressStore(url: StateFolder.standard(environment: environment).file("tutorials.json"))
  }

  /// The saved progress; empty when there is none or the file is unreadable (it is only a
  /// convenience, never a reason to refuse to start).
  public func load() -> TutorialProgress {
    guard let data = try? Data(contentsOf: url),
      let progress = try? JSONDecoder().decode(TutorialProgress.self, from: data)
    else { return TutorialProgress() }
    return progress
  }

  public func save(_ progress: TutorialProgress) throws {
    let folder = url.deletingLastPathComponent()
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    do {
      try AtomicFile.createFolder(folder)
      try AtomicFile.write(try encoder.encode(progress), to: url)
    } catch let error as LatheIOError {
      throw TutorialProgressError(description: error.description)
    } catch {
      throw TutorialProgressError(description: "cannot write \(url.path): \(error.localizedDescription)")
    }
  }

  /// Loads, changes one tutorial's entry, saves.
  public func update(_ name: String, _ change: (inout TutorialProgress.Entry) -> Void) throws {
    var progress = load()
    var entry = progress.tutorials[name] ?? TutorialProgress.Entry()
    change(&entry)
    progress.tutorials[name] = entry
    try save(progress)
  }
}
