import Foundation

/// The Python interpreter tests that compare with a reference package (`tokenizers`, numpy)
/// run their scripts with, and a way to run it. Tests that need one skip, saying why, when
/// `interpreter` finds none.
public enum ExternalPython {
  /// LATHE_HF_PYTHON, else the venv `scripts/onnx-interop.sh` makes, provided it imports
  /// every module of `modules`.
  public static func interpreter(importing modules: [String] = ["tokenizers", "numpy"]) -> String? {
    let environment = ProcessInfo.processInfo.environment
    let candidates = [
      environment["LATHE_HF_PYTHON"], (environment["TMPDIR"] ?? "/tmp") + "/lathe-onnx-venv/bin/python",
    ].compactMap { $0 }
    return candidates.first { path in
      FileManager.default.isExecutableFile(atPath: path)
        && (try? run(path, ["-c", "import " + modules.joined(separator: ", ")]).status) == 0
    }
  }

  /// Runs `executable` to its end: its status and its stdout and stderr together.
  public static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }
}
