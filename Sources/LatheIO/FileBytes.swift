import Foundation

/// Whole-file reads and atomic writes, with failures turned into `LatheIOError`.
enum FileBytes {
  static func read(_ url: URL) throws -> [UInt8] {
    do {
      return [UInt8](try Data(contentsOf: url))
    } catch {
      throw LatheIOError.unreadable(file: url.path, reason: reason(error))
    }
  }

  /// Writes `bytes` to a temporary file beside `url`, then renames it over `url`. A crash or a
  /// full disk leaves either the old file or the new one, never a half-written model.
  static func writeAtomically(_ bytes: [UInt8], to url: URL) throws {
    // Hidden, and unique per process and call, so concurrent writers never share a temporary.
    let unique = "\(ProcessInfo.processInfo.processIdentifier).\(UInt32.random(in: 0...UInt32.max))"
    let temporary = url.deletingLastPathComponent()
      .appendingPathComponent(".\(url.lastPathComponent).\(unique).tmp")
    do {
      try Data(bytes).write(to: temporary)
      // Flush to disk before the rename, so a power cut cannot leave a renamed empty file.
      let handle = try FileHandle(forWritingTo: temporary)
      defer { try? handle.close() }
      try handle.synchronize()
    } catch {
      try? FileManager.default.removeItem(at: temporary)
      throw LatheIOError.unwritable(file: url.path, reason: reason(error))
    }
    if rename(temporary.path, url.path) != 0 {
      let message = String(cString: strerror(errno))
      try? FileManager.default.removeItem(at: temporary)
      throw LatheIOError.unwritable(file: url.path, reason: message)
    }
  }

  /// The underlying POSIX message when there is one ("No such file or directory"), rather than
  /// Foundation's generic wording.
  private static func reason(_ error: Error) -> String {
    let nsError = error as NSError
    if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
      underlying.domain == NSPOSIXErrorDomain
    {
      return String(cString: strerror(Int32(underlying.code)))
    }
    return nsError.localizedDescription
  }
}

extension URL {
  /// The file's size in bytes (0 when it cannot be read): the size Lathe reports for a model.
  public var fileSizeOnDisk: Int {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
  }
}
