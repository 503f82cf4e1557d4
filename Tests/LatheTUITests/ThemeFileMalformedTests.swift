import Foundation
import LatheTestSupport
import XCTest

@testable import LatheTUI

/// Damaged or huge theme files: the built-in theme and a warning naming the file and line,
/// found fast (a 140 MB file once blocked start-up for 39 s).
final class ThemeFileMalformedTests: XCTestCase {
  var folder: URL!

  override func setUpWithError() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-themes-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

  func testFileOver1MBIsRefusedWithoutReadingItAll() throws {
    let file = folder.appendingPathComponent("huge.theme")
    let line = Data("theme[title]=\"#010203\"\n".utf8)
    var data = Data()
    while data.count <= 1 << 21 { data.append(line) }
    try data.write(to: file)
    let start = Date()
    let (theme, warnings) = ThemeLibrary(directory: folder).load("huge")
    XCTAssertLessThan(Date().timeIntervalSince(start), 1)
    XCTAssertEqual(theme, .builtIn)
    XCTAssertEqual(
      warnings.map(\.description),
      ["\(file.path): larger than the 1048576 bytes a theme may have; using the built-in theme"])
  }

  func testWarningsNameTheFileAndLine() throws {
    let file = folder.appendingPathComponent("bad.theme")
    try "# ok\ntheme[title]=\"#12345\"\ngarbage\n".write(to: file, atomically: true, encoding: .utf8)
    let (_, warnings) = ThemeLibrary(directory: folder).load("bad")
    XCTAssertEqual(
      warnings.map(\.description),
      [
        "\(file.path):2: bad colour \"#12345\" for title",
        "\(file.path):3: expected theme[key]=\"#RRGGBB\", got garbage",
      ])
  }

  func testGarbageCannotFloodTheLog() {
    let text = String(repeating: "x\n", count: 5000) + String(repeating: "y", count: 100_000)
    let (_, warnings) = ThemeFile.parse(text, name: "g", file: "g.theme")
    XCTAssertEqual(warnings.count, ThemeFile.maxWarnings + 1)
    XCTAssertEqual(warnings.last?.description, "g.theme: 4981 more lines skipped")
    XCTAssertTrue(warnings.allSatisfy { $0.description.count < 200 })
  }

  func testMissingFileWarnsWithTheReason() {
    let (_, warnings) = ThemeLibrary(directory: folder).load("absent")
    XCTAssertEqual(
      warnings.map(\.description),
      [
        "\(folder.appendingPathComponent("absent.theme").path): cannot read the file (No such file or directory); "
          + "using the built-in theme"
      ])
  }

  /// Seeded damage to the bundled themes: never a trap, never more than the capped warnings,
  /// each naming the file and line.
  func testMutatedThemesWarnWithFileAndLine() throws {
    let themes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("themes")
    let names = try FileManager.default.contentsOfDirectory(atPath: themes.path).filter { $0.hasSuffix(".theme") }
    XCTAssertFalse(names.isEmpty)
    var mutator = TextMutator(seed: 77, fragments: TextMutator.tutorialFragments)
    for name in names.sorted() {
      let original = try Data(contentsOf: themes.appendingPathComponent(name))
      for _ in 0..<200 {
        let text = String(decoding: mutator.mutate(original), as: UTF8.self)
        let (_, warnings) = ThemeFile.parse(text, name: "m", file: "m.theme")
        XCTAssertLessThanOrEqual(warnings.count, ThemeFile.maxWarnings + 1)
        for warning in warnings {
          XCTAssertTrue(warning.description.hasPrefix("m.theme:"), warning.description)
          XCTAssertFalse(warning.description.contains(where: \.isNewline), warning.description)
        }
      }
    }
  }

  /// Fuzz-found (fuzz-theme): a line holding a carriage return or another control character
  /// was echoed into its warning as it was, breaking the log's one-line entries.
  func testWarningsEscapeControlCharacters() throws {
    let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Regressions/themes/line-with-carriage-return.theme")
    let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
    let (_, warnings) = ThemeFile.parse(text, name: "r", file: "r.theme")
    XCTAssertFalse(warnings.isEmpty)
    for warning in warnings { XCTAssertFalse(warning.description.contains(where: \.isNewline), warning.description) }
    let (_, bell) = ThemeFile.parse("theme[main\u{7}bg]\n", name: "b", file: "b.theme")
    XCTAssertEqual(bell.map(\.description), [##"b.theme:1: expected theme[key]="#RRGGBB", got theme[main\u{7}bg]"##])
  }

  /// A theme saved with Windows line endings is the same theme, without a warning per line.
  func testWindowsLineEndingsReadTheSame() {
    let unix = ThemeFile.format(.builtIn)
    let windows = unix.replacingOccurrences(of: "\n", with: "\r\n")
    let (a, aWarnings) = ThemeFile.parse(unix, name: "t")
    let (b, bWarnings) = ThemeFile.parse(windows, name: "t")
    XCTAssertEqual(aWarnings, [])
    XCTAssertEqual(bWarnings, [])
    XCTAssertEqual(a, b)
  }
}
