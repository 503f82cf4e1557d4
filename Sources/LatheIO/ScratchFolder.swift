import Foundation

/// A folder under `$TMPDIR` that holds one process's throw-away files (the workbench's step
/// models, `lathe run` without `--output-dir`), named `PREFIX-PID-RANDOM` so that a later run
/// can tell whether its owner is still alive.
///
/// The owner removes it when it exits; a process killed with `kill -9` cannot, so `make` first
/// removes the folders of the same prefix whose process no longer exists. Nothing is left
/// behind for long, and a live session's folder is never touched.
public struct ScratchFolder: Sendable {
  public let url: URL

  /// Creates a fresh folder, after removing stale ones left by dead processes.
  public static func make(prefix: String, in parent: URL = FileManager.default.temporaryDirectory) throws(LatheIOError)
    -> ScratchFolder
  {
    removeStale(prefix: prefix, in: parent)
    let name = "\(prefix)-\(getpid())-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
    let url = parent.appendingPathComponent(name)
    guard mkdir(url.path, 0o700) == 0 else {
      throw .uncreatableFolder(path: url.path, reason: String(cString: strerror(errno)))
    }
    return ScratchFolder(url: url)
  }

  /// Deletes the folder and everything in it (best effort: it is scratch space).
  public func remove() {
    try? FileManager.default.removeItem(at: url)
  }

  /// Removes `PREFIX-PID-*` folders in `parent` whose PID names no running process.
  static func removeStale(prefix: String, in parent: URL) {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: parent.path)) ?? []
    for name in names where name.hasPrefix(prefix + "-") {
      let rest = name.dropFirst(prefix.count + 1)
      guard let pid = rest.split(separator: "-").first.flatMap({ Int32($0) }), pid > 0 else { continue }
      // kill(pid, 0) probes without signalling; ESRCH means no such process.
      if kill(pid, 0) != 0 && errno == ESRCH {
        try? FileManager.default.removeItem(at: parent.appendingPathComponent(name))
      }
    }
  }
}
