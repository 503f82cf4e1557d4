import Foundation
import LatheCompress
import LatheSearch
import LatheTestSupport
import LatheWorkspace
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
      var mutator = TextMutator(seed: UInt64(index) &* 7919 &+ 1)
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
