import Foundation
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
      var mutator = TextMutator(seed: UInt64(index) &* 104_729 &+ 3)
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

/// Deterministic damage to a text file (the same kinds as the pipeline mutation test's):
/// bit flips, truncation, inserted and deleted bytes, duplicated lines, changed indentation,
/// numbers replaced with extreme ones, YAML fragments inserted.
struct TextMutator {
  var state: UInt64

  init(seed: UInt64) { state = seed }

  /// SplitMix64: tiny and fully deterministic across platforms.
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }

  static let numbers = [
    "1e300", "-1e300", "1e999", "-1e999", "nan", ".nan", "inf", ".inf", "-1", "0", "-0.0", "9223372036854775807",
    "-9223372036854775808", "99999999999999999999", "4.9e-324", "2147483648", "1e-320",
  ]
  static let fragments = [
    "&a ", "*a", "[[[[[[", "{", "}", ": ", "- ", "\t", "'", "\"", "#", "\n", "? ", "{model}", "{search.best.x}",
    "{layer.fc1.sparsity}", "{",
  ]

  mutating func mutate(_ data: Data) -> Data {
    var bytes = [UInt8](data)
    for _ in 0...below(3) { bytes = mutateOnce(bytes) }
    return Data(bytes)
  }

  mutating func mutateOnce(_ bytes: [UInt8]) -> [UInt8] {
    guard !bytes.isEmpty else { return bytes }
    var b = bytes
    switch below(9) {
    case 0: b[below(b.count)] ^= UInt8(1 << below(8))
    case 1: b = Array(b.prefix(below(b.count)))
    case 2: b.insert(UInt8(truncatingIfNeeded: next()), at: below(b.count + 1))
    case 3:
      let start = below(b.count)
      b.removeSubrange(start..<min(start + 1 + below(8), b.count))
    case 4: b = lines(b) { lines, i in lines.insert(lines[i], at: i) }
    case 5:
      let indent = [UInt8](repeating: 0x20, count: 1 + below(6))
      b = lines(b) { lines, i in lines[i] = indent + lines[i] }
    case 6: b = lines(b) { lines, i in lines[i] = Array(lines[i].drop { $0 == 0x20 }) }
    case 7: b = replaceNumber(b)
    default: b.insert(contentsOf: Array(Self.fragments[below(Self.fragments.count)].utf8), at: below(b.count + 1))
    }
    return b
  }

  mutating func lines(_ b: [UInt8], _ change: (inout [[UInt8]], Int) -> Void) -> [UInt8] {
    var lines = b.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
    change(&lines, below(lines.count))
    return Array(lines.joined(separator: [0x0A]))
  }

  mutating func replaceNumber(_ b: [UInt8]) -> [UInt8] {
    let isNumberByte: (UInt8) -> Bool = { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D || $0 == 0x65 }
    let starts = b.indices.filter { i in b[i] >= 0x30 && b[i] <= 0x39 && (i == 0 || !isNumberByte(b[i - 1])) }
    guard !starts.isEmpty else { return b }
    let start = starts[below(starts.count)]
    var end = start
    while end < b.count, isNumberByte(b[end]) { end += 1 }
    var result = b
    result.replaceSubrange(start..<end, with: Array(Self.numbers[below(Self.numbers.count)].utf8))
    return result
  }
}
