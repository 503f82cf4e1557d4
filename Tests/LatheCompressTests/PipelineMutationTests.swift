import Foundation
import LatheCompress
import XCTest

/// Seeded mutants of every sample pipeline, parsed and validated against the technique
/// descriptors and the search space (not run). A trap kills the test process, which fails it;
/// an error must be one line that names the file.
final class PipelineMutationTests: XCTestCase {
  static let folders = ["samples/pipelines", "samples/tutorials/pipelines"]
  static let mutantsPerFile = 250

  var packageRoot: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  }

  func sampleFiles() throws -> [URL] {
    try Self.folders.flatMap { folder -> [URL] in
      let url = packageRoot.appendingPathComponent(folder)
      return try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".yaml") }.sorted()
        .map { url.appendingPathComponent($0) }
    }
  }

  /// Everything `lathe run` and `lathe search` check before they run anything.
  static func validate(_ text: String, file: String) throws {
    var spec = try PipelineSpec.parse(text, file: file)
    // Search errors name spec.file, as for a pipeline read from disk.
    spec.file = URL(fileURLWithPath: file)
    let isSearch = spec.search != nil || spec.steps.contains { $0.parameters.contains { Self.isRange($0.value) } }
    if isSearch {
      let searchable = try SearchablePipeline(spec, layers: { ["fc1", "fc2", "conv1"] })
      _ = searchable.space.unitDimensions
      _ = searchable.space.fingerprint
      _ = GridSampler.levels(searchable.space.unitDimensions, trials: searchable.settings.trials)
      let budgets: [Int] = searchable.settings.budget?.rungs ?? []
      for u in [0.0, 0.37, 1.0] {
        let values = searchable.space.values(at: Array(repeating: u, count: searchable.space.count))
        let trial = searchable.pipeline(for: values, budget: budgets.last)
        for step in trial.steps { _ = try Techniques.make(step, file: file) }
      }
    } else {
      for step in spec.steps { _ = try Techniques.make(step, file: file) }
    }
    // What the step editor saves must read back.
    _ = try PipelineSpec.parse(spec.yaml(), file: file)
  }

  static func isRange(_ value: ParameterValue) -> Bool {
    if case .map(let pairs) = value { return pairs.contains { $0.key == "search" } }
    return false
  }

  func testOriginalsAreValid() throws {
    let files = try sampleFiles()
    XCTAssertGreaterThanOrEqual(files.count, 15)
    for url in files { XCTAssertNoThrow(try Self.validate(String(contentsOf: url, encoding: .utf8), file: url.path)) }
  }

  func testMutantsGiveOneLineErrorsNamingTheFile() throws {
    let start = Date()
    var counts = (mutants: 0, valid: 0, errors: 0, withoutLine: 0)
    for (index, url) in try sampleFiles().enumerated() {
      let original = try Data(contentsOf: url)
      var mutator = YAMLMutator(seed: UInt64(index) &* 7919 &+ 1)
      for _ in 0..<Self.mutantsPerFile {
        let mutant = mutator.mutate(original)
        counts.mutants += 1
        guard let text = String(data: mutant, encoding: .utf8) else { continue }
        do {
          try Self.validate(text, file: "/m.yaml")
          counts.valid += 1
        } catch {
          counts.errors += 1
          let message = "\(error)"
          if !message.hasPrefix("/m.yaml:") || message.contains("\n") {
            XCTFail("\(url.lastPathComponent): not a one-line error naming the file: \(message.prefix(300))")
          }
          if message.hasPrefix("/m.yaml:"), !(message.dropFirst(8).first?.isNumber ?? false) {
            counts.withoutLine += 1
            if counts.withoutLine <= 8 { print("without a line: \(message.prefix(160))") }
          }
        }
      }
    }
    let seconds = Date().timeIntervalSince(start)
    print(
      "pipeline mutants: \(counts.mutants), valid \(counts.valid), errors \(counts.errors), "
        + "without a line \(counts.withoutLine), \(String(format: "%.1f", seconds)) s")
    XCTAssertGreaterThanOrEqual(counts.mutants, 3000)
    // Every mutant here is small: each error can point at a line.
    XCTAssertEqual(counts.withoutLine, 0)
  }

  /// Inputs that once trapped; each must now read without one.
  func testRegressionPipelinesGiveOneLineErrors() throws {
    let folder = packageRoot.appendingPathComponent("Tests/Regressions/pipelines")
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
    XCTAssertFalse(names.isEmpty)
    for name in names.sorted() {
      let url = folder.appendingPathComponent(name)
      XCTAssertThrowsError(try Self.validate(try YAMLDocument.readText(url), file: url.path), name) { error in
        XCTAssertTrue("\(error)".hasPrefix(url.path + ":"), "\(name): \(error)")
        XCTAssertFalse("\(error)".contains(where: \.isNewline), "\(name): \(error)")
      }
    }
  }
}

/// Deterministic damage to a text file: the kinds of change a fuzzer, a bad merge or a careless
/// edit make. Seeded, so a failure names a mutant that can be made again.
struct YAMLMutator {
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
  static let fragments = ["&a ", "*a", "[[[[[[", "{", "}", ": ", "- ", "\t", "'", "\"", "#", "\n", "? ", "!!binary "]

  /// One to three changes to `data`.
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
    case 3: b.removeSubrange(rangeAt(b.count, length: 1 + below(8)))
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

  mutating func rangeAt(_ count: Int, length: Int) -> Range<Int> {
    let start = below(count)
    return start..<min(start + length, count)
  }

  mutating func lines(_ b: [UInt8], _ change: (inout [[UInt8]], Int) -> Void) -> [UInt8] {
    var lines = b.split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
    change(&lines, below(lines.count))
    return Array(lines.joined(separator: [0x0A]))
  }

  /// A number in the text (or, without one, any word after ": ") replaced by an extreme one.
  mutating func replaceNumber(_ b: [UInt8]) -> [UInt8] {
    let isNumberByte: (UInt8) -> Bool = { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D || $0 == 0x65 }
    var starts: [Int] = []
    for i in b.indices where b[i] >= 0x30 && b[i] <= 0x39 && (i == 0 || !isNumberByte(b[i - 1])) { starts.append(i) }
    guard !starts.isEmpty else { return b }
    let start = starts[below(starts.count)]
    var end = start
    while end < b.count, isNumberByte(b[end]) { end += 1 }
    var result = b
    result.replaceSubrange(start..<end, with: Array(Self.numbers[below(Self.numbers.count)].utf8))
    return result
  }
}
