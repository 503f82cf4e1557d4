import Foundation
import LatheTestSupport
import XCTest

@testable import LatheTUI

/// Seeded mutants of every sample tutorial, parsed (placeholders and checks included). A trap
/// kills the test process, which fails it; an error must be one line that names the file.
final class TutorialMutationTests: XCTestCase {
  static let mutantsPerFile = 600

  var packageRoot: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  }

  func sampleFiles() throws -> [URL] {
    let folder = packageRoot.appendingPathComponent("samples/tutorials")
    return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }.sorted()
      .map { folder.appendingPathComponent($0) }
  }

  func testMutantsGiveOneLineErrorsNamingTheFile() throws {
    let start = Date()
    var counts = (mutants: 0, valid: 0, errors: 0, withoutLine: 0)
    let files = try sampleFiles()
    XCTAssertGreaterThanOrEqual(files.count, 6)
    for (index, url) in files.enumerated() {
      let original = try Data(contentsOf: url)
      XCTAssertNoThrow(try TutorialFile.parse(String(decoding: original, as: UTF8.self), file: "t.yaml", name: "t"))
      var mutator = TextMutator(seed: UInt64(index) &* 104_729 &+ 3, fragments: TextMutator.tutorialFragments)
      for _ in 0..<Self.mutantsPerFile {
        counts.mutants += 1
        guard let text = String(data: mutator.mutate(original), encoding: .utf8) else { continue }
        do {
          _ = try TutorialFile.parse(text, file: "t.yaml", name: "t")
          counts.valid += 1
        } catch {
          counts.errors += 1
          let message = "\(error)"
          if !message.hasPrefix("t.yaml:") || message.contains("\n") {
            XCTFail("\(url.lastPathComponent): not a one-line error naming the file: \(message.prefix(300))")
          }
          if !(message.dropFirst(7).first?.isNumber ?? false) {
            counts.withoutLine += 1
            if counts.withoutLine <= 8 { print("without a line: \(message.prefix(160))") }
          }
        }
      }
    }
    let seconds = Date().timeIntervalSince(start)
    print(
      "tutorial mutants: \(counts.mutants), valid \(counts.valid), errors \(counts.errors), "
        + "without a line \(counts.withoutLine), "
        + "\(String(format: "%.1f", seconds)) s")
    XCTAssertGreaterThanOrEqual(counts.mutants, 3000)
    XCTAssertEqual(counts.withoutLine, 0)
  }

  /// Inputs that once trapped; each must now give a one-line error.
  func testRegressionTutorialsGiveOneLineErrors() throws {
    let folder = packageRoot.appendingPathComponent("Tests/Regressions/tutorials")
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
    XCTAssertFalse(names.isEmpty)
    for name in names.sorted() {
      let url = folder.appendingPathComponent(name)
      XCTAssertThrowsError(try TutorialFile.read(from: url), name) { error in
        XCTAssertTrue("\(error)".hasPrefix(url.path + ":"), "\(name): \(error)")
        XCTAssertFalse("\(error)".contains("\n"), "\(name): \(error)")
      }
    }
  }
}
