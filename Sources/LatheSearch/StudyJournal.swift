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
public final class StudyJournal: StudyStorage, @unchecked Sendable {
  public let url: URL
  private let mutex = NSLock()
  private var events: [JournalEvent] = []
  private var offset: UInt64 = 0
  private var pendingTail = Data()
  /// Lines cut short by a crash and skipped.
  public private(set) var skippedLines = 0
  /// One line per skipped line, `FILE:LINE: ...`, for the caller to print.
  public private(set) var warnings: [String] = []
  /// Complete lines read so far, so errors can give the line number.
  private var linesRead = 0
  private var warnedTailLine: Int?

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

  public var location: String { url.path }
  /// A journal keeps no heartbeats: a dead worker is found by its pid, or by `staleAfter`.
  public var heartbeatInterval: Double? { nil }
  public func beat(trial: Int) throws {}

  private func readNew(_ fd: Int32) throws {
    var stats = stat()
    guard fstat(fd, &stats) == 0 else { throw Failure(description: "\(url.path): cannot stat") }
    let size = UInt64(stats.st_size)
    // The file was replaced or truncated: start over.
    if size < offset { reset() }
    guard size > offset else { return }
    guard size - offset <= Self.maxReadBytes else {
      throw Failure(description: "\(url.path): \(size) bytes; a journal is limited to \(Self.maxReadBytes)")
    }
    do {
      try readChunk(fd, size: size)
    } catch {
      // Forget what was read, so the next transaction meets the same bad line and fails the same way.
      reset()
      throw error
    }
  }

  /// Far more than a study of the largest trial count writes.
  static let maxReadBytes: UInt64 = 1 << 30

  private func reset() {
    events = []
    offset = 0
    pendingTail = Data()
    linesRead = 0
    warnedTailLine = nil
    skippedLines = 0
    warnings = []
  }

  /// Decodes the bytes from `offset` to `size`, keeping an unfinished last line for later.
  private func readChunk(_ fd: Int32, size: UInt64) throws {
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
      linesRead += 1
      guard !line.isEmpty else { continue }
      if let event = try decodeLine(line, number: linesRead, decoder: decoder) { events.append(event) }
    }
    pendingTail = Data(data)
    // The last line has no newline yet: a writer was stopped mid-write. Warn once per such line.
    if !pendingTail.isEmpty, warnedTailLine != linesRead + 1 {
      warnedTailLine = linesRead + 1
      warnings.append("\(url.path):\(linesRead + 1): skipping the last line, cut short by a stopped writer")
    }
  }

  /// Longer than any event Lathe writes (a trial's settings and metrics); refused, not decoded.
  static let maxLineBytes = 1 << 20

  /// One complete line as an event; nil for a line cut short by a crash (skipped with a
  /// warning). Any other line that is not a valid event is an error naming the file and line:
  /// skipping it silently could lose or invent trials.
  private func decodeLine(_ line: Data, number: Int, decoder: JSONDecoder) throws -> JournalEvent? {
    let place = "\(url.path):\(number)"
    if line.count <= Self.maxLineBytes, let event = try? decoder.decode(JournalEvent.self, from: line) {
      if let problem = event.problem {
        throw Failure(description: "\(place): \(problem)")
      }
      return event
    }
    if Self.isCutShort(line) {
      skippedLines += 1
      warnings.append("\(place): skipping a line cut short by a stopped writer")
      return nil
    }
    let shown = String(decoding: line.prefix(40), as: UTF8.self)
    throw Failure(
      description: "\(place): expected one JSON journal event per line, got \"\(shown)\(line.count > 40 ? "..." : "")\""
    )
  }

  /// A line Lathe started and did not finish: the start of a JSON object with no closing brace.
  static func isCutShort(_ line: Data) -> Bool {
    var trimmed = line[...]
    while let last = trimmed.last, last == 0x20 || last == 0x0D || last == 0x09 { trimmed = trimmed.dropLast() }
    return trimmed.starts(with: Array("{\"".utf8)) && trimmed.last != UInt8(ascii: "}")
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
