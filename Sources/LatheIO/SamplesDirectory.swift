import Foundation

/// Finds the `samples` directory (bundled models and datasets) wherever Lathe runs from: an
/// installed binary, a build folder inside the checkout, or the test runner.
public enum SamplesDirectory {
  /// `$LATHE_SAMPLES` if set; else the first `samples` folder holding `datasets/` found walking
  /// up from the running executable, then from this source file's location at build time.
  public static func locate() -> URL? {
    locate(
      environment: ProcessInfo.processInfo.environment, executable: executableURL(),
      sourceFile: #filePath)
  }

  /// `locate()` with its inputs spelled out, for tests.
  static func locate(environment: [String: String], executable: URL?, sourceFile: String) -> URL? {
    if let path = environment["LATHE_SAMPLES"], !path.isEmpty {
      return URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
    }
    if let executable, let found = search(upFrom: executable.deletingLastPathComponent()) {
      return found
    }
    return search(upFrom: URL(fileURLWithPath: sourceFile).deletingLastPathComponent())
  }

  /// `<ancestor>/samples` for the nearest ancestor of `directory` (itself included) that has
  /// `samples/datasets`.
  static func search(upFrom directory: URL) -> URL? {
    var current = directory.standardizedFileURL
    while true {
      let samples = current.appendingPathComponent("samples")
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(
        atPath: samples.appendingPathComponent("datasets").path, isDirectory: &isDirectory),
        isDirectory.boolValue
      {
        return samples
      }
      let parent = current.deletingLastPathComponent()
      if parent.path == current.path { return nil }
      current = parent
    }
  }

  /// The running executable, symlinks resolved: `/proc/self/exe` on Linux, else argv[0].
  private static func executableURL() -> URL? {
    if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
      return URL(fileURLWithPath: target)
    }
    guard let first = CommandLine.arguments.first, !first.isEmpty else { return nil }
    let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
    return URL(fileURLWithPath: first, relativeTo: cwd).absoluteURL.resolvingSymlinksInPath()
  }
}
