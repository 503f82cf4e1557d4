import LatheCompress
import LatheSearch
import LatheWorkspace
import XCTest

/// Search ranges and the `search:` section in pipeline files: what they parse to, the errors
/// (with line and key) when they are wrong, and the concrete pipelines trials run.
final class SearchSpaceTests: XCTestCase {
  static let text = """
    name: searched
    model: lenet-300-100
    dataset: mnist-5k
    steps:
      - name: prune
        technique: gradual-prune
        final_sparsity: {search: per-layer, low: 0.5, high: 0.98}
        pruning_epochs: 1
        epochs: {search: int, low: 2, high: 10}
        lr: {search: float, low: 0.001, high: 0.1, log: true}
      - name: tune
        technique: fine-tune
        optimizer: {search: choice, values: [sgd, adam]}
    search:
      objectives: [maximize accuracy, minimize size_bytes]
      constraints: [size_bytes <= 50000, latency_b1 <= 20]
      trials: 30
      sampler: nsga2
      seed: 4

    """

  func parse(_ text: String) throws -> SearchablePipeline {
    try SearchablePipeline(PipelineSpec.parse(text, file: "p.yaml")) { ["fc1", "fc2", "fc3"] }
  }

  func error(_ text: String) -> PipelineError? {
    do {
      _ = try parse(text)
      return nil
    } catch let e as PipelineError {
      return e
    } catch {
      XCTFail("not a PipelineError: \(error)")
      return nil
    }
  }

  func testRangesAndSettingsParse() throws {
    let p = try parse(Self.text)
    XCTAssertEqual(
      p.space.dimensions.map(\.name),
      [
        "prune.final_sparsity.fc1", "prune.final_sparsity.fc2", "prune.final_sparsity.fc3", "prune.epochs", "prune.lr",
        "tune.optimizer",
      ])
    XCTAssertEqual(p.space.dimensions[4].kind, .float(low: 0.001, high: 0.1, log: true))
    XCTAssertEqual(p.space.dimensions[3].kind, .int(low: 2, high: 10, log: false))
    XCTAssertEqual(p.space.dimensions[5].kind, .choice([.string("sgd"), .string("adam")]))
    XCTAssertEqual(p.space.dimensions[0].line, 7)
    XCTAssertEqual(p.settings.objectives, [Objective(.maximize, "accuracy"), Objective(.minimize, "size_bytes")])
    XCTAssertEqual(
      p.settings.constraints, [Constraint("size_bytes", .atMost, 50000), Constraint("latency_b1", .atMost, 20)])
    XCTAssertEqual(p.settings.trials, 30)
    XCTAssertEqual(p.settings.samplerName, "nsga2")
    XCTAssertEqual(p.settings.seed, 4)
  }

  func testUnitValuesMapToTheRanges() throws {
    let p = try parse(Self.text)
    let lr = p.space.dimensions[4]
    XCTAssertEqual(lr.value(at: 0), .float(0.001))
    XCTAssertEqual(lr.value(at: 1), .float(0.1))
    XCTAssertEqual(lr.value(at: 0.5).number!, 0.01, accuracy: 1e-9)
    let epochs = p.space.dimensions[3]
    XCTAssertEqual(Set((0..<100).map { epochs.value(at: Double($0) / 99).description }), Set((2...10).map { "\($0)" }))
    XCTAssertEqual(epochs.value(at: epochs.unit(of: .int(7))!), .int(7))
  }

  func testSubstitutionGivesAPipelineLatheRunAccepts() throws {
    let p = try parse(Self.text)
    let values = p.space.values(at: [0.9, 0.5, 0.1, 0.5, 0.5, 0.9])
    let concrete = p.pipeline(for: values, name: "trial")
    let reread = try PipelineSpec.parse(concrete.yaml(), file: "trial.yaml")
    XCTAssertNil(reread.search)
    XCTAssertEqual(reread.name, "trial")
    XCTAssertEqual(reread.steps[0]["final_sparsity"]?.description, "{fc1: 0.932, fc2: 0.74, fc3: 0.548}")
    XCTAssertEqual(reread.steps[0]["epochs"], .int(6))
    XCTAssertEqual(reread.steps[1]["optimizer"], .string("adam"))
    for step in reread.steps { XCTAssertNoThrow(try Techniques.make(step, file: "trial.yaml")) }
  }

  func testARangeLeftInAPipelineIsRefusedByTheRunner() throws {
    let spec = try PipelineSpec.parse(Self.text, file: "p.yaml")
    XCTAssertThrowsError(try Techniques.make(spec.steps[0], file: "p.yaml")) { e in
      XCTAssertTrue("\(e)".contains("lathe search"), "\(e)")
    }
  }

  func testSearchSectionIsWrittenBack() throws {
    let spec = try PipelineSpec.parse(Self.text, file: "p.yaml")
    let again = try PipelineSpec.parse(spec.yaml(), file: "p2.yaml")
    XCTAssertEqual(again.search?.value, spec.search?.value)
    XCTAssertEqual(try SearchablePipeline(again) { ["fc1", "fc2", "fc3"] }.space, try parse(Self.text).space)
  }

  func testBudgetScalesItsSettings() throws {
    let text = Self.text.replacingOccurrences(
      of: "    epochs: {search: int, low: 2, high: 10}\n", with: ""
    ).replacingOccurrences(
      of: "  seed: 4\n",
      with: "  seed: 4\n  pruner: hyperband\n  budget: {step: prune, scale: {epochs: 1}, min: 1, max: 9}\n")
    let p = try parse(text)
    XCTAssertEqual(p.settings.pruner, .hyperband)
    XCTAssertEqual(p.settings.budget?.rungs, [1, 3, 9])
    let concrete = p.pipeline(for: p.space.values(at: Array(repeating: 0.5, count: p.space.count)), budget: 3)
    XCTAssertEqual(concrete.steps[0]["epochs"], .int(3))
  }

  func testErrorsNameLineAndKey() {
    let cases: [(String, String, Int, String, String)] = [
      (
        "lr: {search: float, low: 0.001, high: 0.1, log: true}", "lr: {search: float, low: 0.1, high: 0.01}", 10,
        "prune.lr", "must be below"
      ),
      (
        "lr: {search: float, low: 0.001, high: 0.1, log: true}", "lr: {search: float, low: 0, high: 0.1, log: true}",
        10,
        "prune.lr", "log range"
      ),
      (
        "lr: {search: float, low: 0.001, high: 0.1, log: true}", "lr: {search: normal, low: 0, high: 1}", 10,
        "prune.lr", "expected float, int, choice or per-layer"
      ),
      (
        "lr: {search: float, low: 0.001, high: 0.1, log: true}", "lr: {search: float, low: 0.01, high: 0.1, step: 2}",
        10, "prune.lr", "unknown range setting"
      ),
      (
        "epochs: {search: int, low: 2, high: 10}", "epochs: {search: int, low: 2.5, high: 10}", 9, "prune.epochs",
        "expected an integer"
      ),
      (
        "optimizer: {search: choice, values: [sgd, adam]}", "optimizer: {search: choice, values: []}", 13,
        "tune.optimizer", "values"
      ),
      (
        "final_sparsity: {search: per-layer, low: 0.5, high: 0.98}",
        "final_sparsity: {search: per-layer, low: 0.5, high: 0.98, layers: [fc9]}", 7, "prune.final_sparsity",
        "no layer \"fc9\""
      ),
      ("trials: 30", "trials: -3", 17, "search.trials", "positive integer"),
      ("sampler: nsga2", "sampler: annealing", 18, "search.sampler", "unknown sampler"),
      ("  seed: 4", "  seed: 4\n  budgets: 3", 20, "search.budgets", "unknown study setting"),
      (
        "objectives: [maximize accuracy, minimize size_bytes]", "objectives: [maximize speed]", 15,
        "search.objectives", "unknown metric"
      ),
      ("size_bytes <= 50000, latency_b1 <= 20", "size_bytes < 50000", 16, "search.constraints", "METRIC <= NUMBER"),
      ("  seed: 4", "  seed: 4\n  pruner: median", 20, "search.pruner", "needs a budget"),
    ]
    for (original, replacement, line, key, message) in cases {
      let text = Self.text.replacingOccurrences(of: original, with: replacement)
      XCTAssertNotEqual(text, Self.text, original)
      guard let e = error(text) else {
        XCTFail("no error for \(replacement)")
        continue
      }
      XCTAssertEqual(e.line, line, "\(replacement): \(e)")
      XCTAssertEqual(e.key, key, "\(replacement): \(e)")
      XCTAssertTrue(e.message.contains(message), "\(replacement): \(e)")
    }
  }

  func testAPipelineWithoutRangesHasNothingToSearch() {
    let text = """
      name: plain
      model: lenet-300-100
      steps:
        - technique: prune
          sparsity: 0.9
      """
    XCTAssertEqual(error(text)?.message.hasPrefix("nothing to search"), true)
  }
}
