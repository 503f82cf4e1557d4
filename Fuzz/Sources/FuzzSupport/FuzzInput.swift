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
    precondition(written, "cannot write the fuzz input to \(url.path)")
  }

  /// An error's text must be one line: a reader that lets a newline through breaks the CLI's
  /// one-line messages (the same check the damaged-file tests make).
  public static func checkOneLine(_ error: Error) {
    let message = "\(error)"
    precondition(!message.contains("\n"), "multi-line error: \(message)")
  }
}
