import Foundation

/// The bytes libFuzzer hands a harness, and one scratch file per process for readers that take
/// a path: rewritten for every input, so a run leaves a single file behind.
public enum FuzzInput {
  public static func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: size))
  }

  /// The scratch file's URL, named `input.<ext>` in a folder of this process's own.
  public static func scratchURL(extension ext: String) -> URL {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("lathe-fuzz-\(ProcessInfo.processInfo.processIdentifier)")
    try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder.appendingPathComponent("input.\(ext)")
  }

  /// Writes `bytes` to `url`, replacing what the previous input left there.
  public static func write(_ data: UnsafePointer<UInt8>, _ size: Int, to url: URL) {
    let written = FileManager.default.createFile(
      atPath: url.path, contents: Data(bytes: data, count: size))
    if !written { fatalError("cannot write the fuzz input to \(url.path)") }
  }

  /// Set LATHE_FUZZ_MULTILINE=ignore to fuzz past a known multi-line error.
  static let multilineIsCrash = ProcessInfo.processInfo.environment["LATHE_FUZZ_MULTILINE"] != "ignore"

  /// An error's text must be one line: a reader that lets a newline through breaks the CLI's
  /// one-line messages (the same check the damaged-file tests make). fatalError, not
  /// precondition: an optimised build prints only fatalError's message.
  public static func checkOneLine(_ error: Error) {
    let message = "\(error)"
    if multilineIsCrash, message.contains("\n") { fatalError("multi-line error: \(message)") }
  }
}
