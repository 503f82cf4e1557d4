import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A study's journal file: one JSON object per line, appended under an exclusive `flock`, so
/// any number of threads and processes (several `lathe search --resume`, cluster jobs on a
/// shared disk with working locks) can add trials to one study without losing or mixing lines.
///
/// Each `transaction` locks the file, reads what others appended since this object last looked,
/// lets the caller decide (e.g. which trial to take next) and appends its events in one
/// `write`, before unlocking. A line cut short by a crash is skipped when read and closed
/// with a newline before the next append.
public final class StudyJournal: @unchecked Sendable {
  public let url: URL
  private let mutex = NSLock()
  private var events: [JournalEvent] = []
  private var offset: UInt64 = 0
  private var pendingTail = Data()
  /// Lines that could not be read (cut short by a crash, or written by something else).
  public private(set) var skippedLines = 0

  public init(url: URL) { self.url = url }

  /// Errors with the journal's path and the system's reason.
  public struct Failure: Error, CustomStringConvertible {
    public var description: String
  }

  /// Runs `body` with every event so far, holding the lock, and appends what it returns.
  @discardableResult
  public func transaction<R>(_ body: ([JournalEvent]) throws -> (append: [JournalEvent], result: R)) throws -> R {
    mutex.lock()
    defer { mutex.unlock() }
    let fd = open(url.path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw Failure(description: "\(url.path): cannot open (\(String(cString: strerror(errno))))") }
    defer { close(fd) }
    while flock(fd, LOCK_EX) != 0 {
      guard errno == EINTR else {
        throw Failure(description: "\(url.path): cannot lock (\(String(cString: strerror(errno))))")
      }
    }
    defer { flock(fd, LOCK_UN) }
    try readNew(fd)
    let (append, result) = try body(events)
    if !append.isEmpty {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
      var data = Data()
      // A line cut short by a crash must not swallow ours.
      if !pendingTail.isEmpty { data.append(0x0A) }
      for event in append {
        data.append(try encoder.encode(event))
        data.append(0x0A)
      }
      try writeAll(fd, data)
      // Read our own lines back like anyone else's, keeping the offset in step with the file.
      try readNew(fd)
    }
    return result
  }

  /// Every event in the journal now.
  public func read() throws -> [JournalEvent] { try transaction { ([], $0) } }

  /// Appends events.
  public func append(_ new: [JournalEvent]) throws { try transaction { _ in (new, ()) } }

  private func readNew(_ fd: Int32) throws {
    var stats = stat()
    guard fstat(fd, &stats) == 0 else { throw Failure(description: "\(url.path): cannot stat") }
    let size = UInt64(stats.st_size)
    if size < offset {
      // The file was replaced or truncated: start over.
      events = []
      offset = 0
      pendingTail = Data()
    }
    guard size > offset else { return }
    var chunk = Data(count: Int(size - offset))
    let count = chunk.count
    let got = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
    guard got >= 0 else { throw Failure(description: "\(url.path): cannot read") }
    chunk.count = got
    offset += UInt64(got)
    var data = pendingTail + chunk
    pendingTail = Data()
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    while let newline = data.firstIndex(of: 0x0A) {
      let line = data[data.startIndex..<newline]
      data = data[(newline + 1)...]
      guard !line.isEmpty else { continue }
      if let event = try? decoder.decode(JournalEvent.self, from: line) {
        events.append(event)
      } else {
        skippedLines += 1
      }
    }
    pendingTail = Data(data)
  }

  private func writeAll(_ fd: Int32, _ data: Data) throws {
    try data.withUnsafeBytes { raw in
      var done = 0
      while done < raw.count {
        let n = write(fd, raw.baseAddress! + done, raw.count - done)
        if n < 0 {
          if errno == EINTR { continue }
          throw Failure(description: "\(url.path): cannot write (\(String(cString: strerror(errno))))")
        }
        done += n
      }
    }
  }
}
