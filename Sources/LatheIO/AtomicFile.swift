import Foundation

/// The one way Lathe writes a file: a temporary file beside the target, written in full,
/// flushed to disk, then renamed over the target, and the folder flushed too.
///
/// A crash, `kill -9`, a full disk or a read-only folder therefore leaves either the old file or
/// the new one, never a half-written model, pipeline, export or journal. Every writer in the
/// project (models, ONNX exports, pipelines, study files, tutorial progress, themes) calls this.
public enum AtomicFile {
  public static func write(_ bytes: [UInt8], to url: URL) throws(LatheIOError) {
    let failure = bytes.withUnsafeBytes { buffer in Result { () throws(LatheIOError) in try write(buffer, to: url) } }
    try failure.get()
  }

  public static func write(_ data: Data, to url: URL) throws(LatheIOError) {
    let failure = data.withUnsafeBytes { buffer in Result { () throws(LatheIOError) in try write(buffer, to: url) } }
    try failure.get()
  }

  public static func write(_ text: String, to url: URL) throws(LatheIOError) {
    try write(Array(text.utf8), to: url)
  }

  /// Writes `buffer` through POSIX calls, so every failure (ENOSPC, EROFS, EACCES) arrives as an
  /// errno that becomes a one-line message naming the target file.
  public static func write(_ buffer: UnsafeRawBufferPointer, to url: URL) throws(LatheIOError) {
    let folder = url.deletingLastPathComponent()
    removeAbandonedTemporaries(of: url)
    // Hidden, and unique per process and call, so concurrent writers never share a temporary.
    let unique = "\(getpid()).\(UInt32.random(in: 0...UInt32.max))"
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(unique).tmp").path
    let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw failure(url) }
    var written = 0
    while written < buffer.count {
      let n = Foundation.write(fd, buffer.baseAddress! + written, buffer.count - written)
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { throw abandon(fd: fd, temporary: temporary, url: url) }
      written += n
    }
    // Flush before the rename, so a power cut cannot leave a renamed but empty file.
    guard fsync(fd) == 0 else { throw abandon(fd: fd, temporary: temporary, url: url) }
    guard close(fd) == 0 else { throw abandon(fd: -1, temporary: temporary, url: url) }
    guard rename(temporary, url.path) == 0 else { throw abandon(fd: -1, temporary: temporary, url: url) }
    // The rename itself lives in the folder: flush it too (best effort; some filesystems refuse).
    let folderFD = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if folderFD >= 0 {
      _ = fsync(folderFD)
      close(folderFD)
    }
  }

  /// A writer killed with `kill -9` leaves its hidden temporary behind: the next write of the
  /// same file removes those whose process is gone (a live writer's is left alone).
  static func removeAbandonedTemporaries(of url: URL) {
    let folder = url.deletingLastPathComponent()
    let prefix = ".\(url.lastPathComponent)."
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
      // ".NAME.PID.RANDOM.tmp"
      let fields = name.dropFirst(prefix.count).dropLast(".tmp".count).split(separator: ".")
      guard fields.count == 2, let pid = Int32(fields[0]), pid > 0 else { continue }
      if kill(pid, 0) != 0 && errno == ESRCH { unlink(folder.appendingPathComponent(name).path) }
    }
  }

  /// Makes `url` and any missing parents (like `mkdir -p`) through POSIX calls, so a failure
  /// is one line with the system's reason, not Foundation's multi-line error dump.
  public static func createFolder(_ url: URL) throws(LatheIOError) {
    let path = url.standardizedFileURL.path
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
      if isFolder.boolValue { return }
      throw .uncreatableFolder(path: path, reason: String(cString: strerror(ENOTDIR)))
    }
    let parent = (path as NSString).deletingLastPathComponent
    if !parent.isEmpty, parent != path {
      do {
        try createFolder(URL(fileURLWithPath: parent))
      } catch {
        // Name the folder that was asked for; the reason comes from the parent that failed.
        if case .uncreatableFolder(_, let reason) = error { throw .uncreatableFolder(path: path, reason: reason) }
        throw error
      }
    }
    // EEXIST here means another process made it first, which is what was wanted.
    guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
      throw .uncreatableFolder(path: path, reason: String(cString: strerror(errno)))
    }
  }

  private static func failure(_ url: URL) -> LatheIOError {
    .unwritable(file: url.path, reason: String(cString: strerror(errno)))
  }

  /// Removes the temporary after a failed step, keeping the errno of the step that failed.
  private static func abandon(fd: Int32, temporary: String, url: URL) -> LatheIOError {
    let error = failure(url)
    if fd >= 0 { close(fd) }
    unlink(temporary)
    return error
  }
}
