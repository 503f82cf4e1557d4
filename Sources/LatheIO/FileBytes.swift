import Foundation

/// Whole-file reads (writes are `AtomicFile`), with failures turned into `LatheIOError`.
enum FileBytes {
  static func read(_ url: URL) throws -> [UInt8] {
    do {
      return [UInt8](try Data(contentsOf: url))
    } catch {
      throw LatheIOError.unreadable(file: url.path, reason: reason(error))
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
