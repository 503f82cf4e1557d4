import Foundation
import LatheCompress
import LatheIO
import LatheSearch
import LatheWorkspace
import XCTest

/// Damaged pipeline files: each gives one line naming the file, the line and the key, never a
/// trap, a stall or a huge allocation.
final class PipelineSpecMalformedTests: XCTestCase {
  /// The one-line error `body` throws, or a failure.
  func error(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
      try body()
      XCTFail("no error", file: file, line: line)
    } catch {
      let text = "\(error)"
      XCTAssertFalse(text.contains("\n"), "more than one line: \(text)", file: file, line: line)
      return text
    }
    return ""
  }

  func parse(_ text: String) throws -> PipelineSpec { try PipelineSpec.parse(text, file: "p.yaml") }

  func search(_ text: String) throws -> SearchablePipeline {
    var spec = try parse(text)
    // Search errors name spec.file, as they do for a pipeline read from disk.
    spec.file = URL(fileURLWithPath: "/p.yaml")
    let searchable = try SearchablePipeline(spec, layers: { ["fc1", "fc2"] })
    // What samplers read first: must not overflow.
    _ = searchable.space.unitDimensions
    _ = searchable.settings.budget?.rungs
    return searchable
  }

  func testAnchorsAndAliasesAreRefusedAnywhere() {
    let anchored = "name: &n p\nsteps:\n  - technique: huffman\n"
    XCTAssertEqual(error { _ = try self.parse(anchored) }, "p.yaml:1: YAML anchors (&name) are not supported")
    let aliased = "steps:\n  - technique: &t huffman\n  - technique: *t\n"
    XCTAssertTrue(error { _ = try self.parse(aliased) }.hasPrefix("p.yaml:2: YAML anchors"))
  }

  func testNestingDeeperThan32LevelsIsRefused() {
    let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
    let text = "steps:\n  - technique: prune\n    layers: \(deep)\n"
    XCTAssertEqual(error { _ = try self.parse(text) }, "p.yaml:3: nested deeper than 32 levels")
  }

  func testDocumentOver4MBIsRefusedBeforeParsing() throws {
    let big = "steps:\n  - technique: huffman\n" + String(repeating: "# padding\n", count: 420_000)
    XCTAssertTrue(error { _ = try self.parse(big) }.hasPrefix("p.yaml: the text is "))
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-big-\(UUID().uuidString).yaml")
    try big.write(to: url, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: url) }
    XCTAssertEqual(
      error { _ = try PipelineSpec.read(from: url) }, "\(url.path): larger than the limit of 4194304 bytes")
  }

  func testYAMLSyntaxErrorIsOneLineWithTheLine() {
    let message = error { _ = try self.parse("steps:\n  - technique: [prune\n") }
    XCTAssertTrue(message.hasPrefix("p.yaml:"), message)
    XCTAssertTrue(message.contains("not valid YAML"), message)
  }

  func testReaderAndDuplicateKeyErrorsNameTheLine() {
    // Yams gives these without a mark: a byte offset, or a context.
    XCTAssertEqual(
      error { _ = try self.parse("steps:\n  - technique: hu\u{7}ffman\n") },
      "p.yaml:2: not valid YAML: control characters are not allowed (character 7)")
    XCTAssertEqual(
      error { _ = try self.parse("steps:\n  - technique: prune\n    epochs: 1\n    epochs: 2\n") },
      "p.yaml:3: not valid YAML: \"epochs\" given twice")
  }

  func testWrongTypeAndOutOfRangeSettingsNameTheirLine() {
    let text = "steps:\n  - technique: prune\n    epochs: 1e300\n  - technique: quantize\n    percentile: nan\n"
    let spec = try! parse(text)
    XCTAssertEqual(
      error { _ = try Techniques.make(spec.steps[0], file: "p.yaml") },
      "p.yaml:3: epochs: expected an integer, got 1e+300")
    XCTAssertEqual(
      error { _ = try Techniques.make(spec.steps[1], file: "p.yaml") },
      "p.yaml:5: percentile: nan is outside 50.0...100.0")
  }

  // Search ranges.

  func testInfiniteFloatBoundsAreRefused() {
    let text = "steps:\n  - technique: prune\n    sparsity: {search: float, low: -1e999, high: 0.9}\n"
    XCTAssertEqual(
      error { _ = try self.search(text) },
      "/p.yaml:3: 1-prune.sparsity: low and high must be finite numbers, got -inf and 0.9")
  }

  func testFloatRangeWiderThanADoubleIsRefused() {
    let text = "steps:\n  - technique: fine-tune\n    lr: {search: float, low: -1e308, high: 1e308}\n"
    XCTAssertEqual(
      error { _ = try self.search(text) }, "/p.yaml:3: 1-fine-tune.lr: the range -1e+308...1e+308 is too wide")
  }

  func testHugeIntRangeIsRefusedInsteadOfOverflowing() {
    let text =
      "steps:\n  - technique: fine-tune\n    epochs: {search: int, low: -4611686018427387904, high: 4611686018427387904}\n"
    XCTAssertTrue(error { _ = try self.search(text) }.hasPrefix("/p.yaml:3: 1-fine-tune.epochs: low and high must lie"))
  }

  func testLogIntRangeNearIntMaxIsRefused() {
    let text =
      "steps:\n  - technique: fine-tune\n    epochs: {search: int, low: 1, high: 9223372036854775807, log: true}\n"
    XCTAssertTrue(error { _ = try self.search(text) }.contains("low and high must lie within"))
  }

  func testLowAboveHighNaNAndLogOfZeroAreErrors() {
    let base = "steps:\n  - technique: fine-tune\n    lr: "
    XCTAssertEqual(
      error { _ = try self.search(base + "{search: float, low: 0.1, high: 0.01}\n") },
      "/p.yaml:3: 1-fine-tune.lr: low (0.1) must be below high (0.01)")
    XCTAssertTrue(error { _ = try self.search(base + "{search: float, low: nan, high: 1}\n") }.contains("finite"))
    XCTAssertEqual(
      error { _ = try self.search(base + "{search: float, low: 0, high: 1, log: true}\n") },
      "/p.yaml:3: 1-fine-tune.lr: a log range needs low > 0")
    XCTAssertTrue(error { _ = try self.search(base + "{search: gaussian}\n") }.contains("expected float, int"))
  }

  func testHugeTrialsJobsAndBudgetsAreErrors() {
    let steps = "steps:\n  - name: ft\n    technique: fine-tune\n    lr: {search: float, low: 0.01, high: 0.1}\n"
    XCTAssertEqual(
      error { _ = try self.search(steps + "search: {trials: 1000000000000000000}\n") },
      "/p.yaml:5: search.trials: 1000000000000000000 is more than the limit of 100000")
    XCTAssertTrue(error { _ = try self.search(steps + "search: {jobs: 1000000000}\n") }.contains("search.jobs"))
    // rungs min·eta^k used to overflow Int before reaching max.
    let budget = "search: {pruner: median, budget: {step: ft, min: 1, max: 9223372036854775807, eta: 2}}\n"
    XCTAssertTrue(error { _ = try self.search(steps + budget) }.contains("budget max"))
    let factor = "search: {pruner: median, budget: {step: ft, scale: {epochs: 1e300}, min: 1, max: 9}}\n"
    XCTAssertTrue(error { _ = try self.search(steps + factor) }.contains("scale.epochs"))
    XCTAssertTrue(
      error { _ = try self.search(steps + "search: {constraints: [\"size_bytes <= nan\"]}\n") }.contains(
        "search.constraints"))
    XCTAssertTrue(error { _ = try self.search(steps + "search: {latency_seconds: 1e999}\n") }.contains("latency"))
  }

  func testManyLargeChoicesDoNotOverflowTheGrid() {
    let choice = UnitDimension.categorical(10_000)
    let levels = GridSampler.levels(Array(repeating: choice, count: 6) + [.continuous], trials: 20)
    XCTAssertEqual(levels.count, 7)
  }

  func testNaNUnitPointDoesNotTrap() {
    // max(nan, 0) is nan, so the old clamp let NaN reach Int().
    let dimension = SearchDimension(name: "n", kind: .int(low: 1, high: 9, log: false))
    XCTAssertEqual(dimension.value(at: .nan), .int(5))
    XCTAssertEqual(UnitDimension.ordered(4).snap(.nan), 0.625)
  }
}
