import Foundation
import XCTest

/// Compares text with `Golden/<name>.txt`. `LATHE_UPDATE_GOLDEN=1 swift test` rewrites the
/// files instead (review the diff, then commit).
func assertGolden(_ actual: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
  let url = URL(fileURLWithPath: "\(file)").deletingLastPathComponent()
    .appendingPathComponent("Golden").appendingPathComponent(name + ".txt")
  let update = ProcessInfo.processInfo.environment["LATHE_UPDATE_GOLDEN"] == "1"
  let expected = try? String(contentsOf: url, encoding: .utf8)
  if update || expected == nil {
    try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try? (actual + "\n").write(to: url, atomically: true, encoding: .utf8)
    if !update { XCTFail("golden \(name) was missing; wrote it, check it and rerun", file: file, line: line) }
    return
  }
  let trimmed = expected!.hasSuffix("\n") ? String(expected!.dropLast()) : expected!
  if trimmed != actual {
    let expectedLines = trimmed.split(separator: "\n", omittingEmptySubsequences: false)
    let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
    var report = ""
    for index in 0..<max(expectedLines.count, actualLines.count) {
      let want = index < expectedLines.count ? String(expectedLines[index]) : "<none>"
      let got = index < actualLines.count ? String(actualLines[index]) : "<none>"
      if want != got { report += "line \(index + 1):\n  want: \(want)\n  got:  \(got)\n" }
    }
    XCTFail("golden \(name) differs (LATHE_UPDATE_GOLDEN=1 to rewrite):\n\(report)", file: file, line: line)
  }
}
