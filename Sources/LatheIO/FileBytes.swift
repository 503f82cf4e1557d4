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
  static func reason(_ error: Error) -> String {
    let nsError = error as NSError
    if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
      underlying.domain == NSPOSIXErrorDomain
    {
      return String(cString: strerror(Int32(underlying.code)))
    }
    return nsError.localizedDescription
  }
}

/// Text files people write (pipelines, tutorials, themes), read with a size limit that holds
/// even for what `stat` cannot size (a link to `/dev/zero`, a growing file).
public enum TextFile {
  public static func read(_ url: URL, limit: Int) throws(LatheIOError) -> String {
    let fd = open(url.path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .unreadable(file: url.path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    while true {
      let n = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      guard n >= 0 else { throw .unreadable(file: url.path, reason: String(cString: strerror(errno))) }
      if n == 0 { break }
      bytes += chunk[0..<n]
      if bytes.count > limit { throw .tooLarge(file: url.path, limit: limit) }
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw .invalid(file: url.path, field: "text", expected: "UTF-8", got: "bytes that are not UTF-8")
    }
    return text
  }
}

extension URL {
  /// The file's size in bytes (0 when it cannot be read): the size Lathe reports for a model.
  public var fileSizeOnDisk: Int {
    (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
  }
}
