import Foundation
import LatheCompress
import XCTest

final class PipelineSpecTests: XCTestCase {
  let valid = """
    name: small
    description: A test pipeline.
    model: digits-mlp
    dataset: digits
    steps:
      - name: cut
        technique: prune
        sparsity: {fc1: 0.8, fc2: 0.5}
        epochs: 2
      - technique: weight-sharing
        bits: 4
      - technique: huffman

    """

  /// The error `text` raises, or a failure if it parses.
  func parseError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> PipelineError? {
    do {
      _ = try PipelineSpec.parse(text, file: "p.yaml")
      XCTFail("parsed without an error", file: file, line: line)
    } catch let error as PipelineError {
      return error
    } catch {
      XCTFail("not a PipelineError: \(error)", file: file, line: line)
    }
    return nil
  }

  /// The error validating the steps of `text` raises (parsing succeeds).
  func validationError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> PipelineError? {
    do {
      let spec = try PipelineSpec.parse(text, file: "p.yaml")
      for step in spec.steps { _ = try Techniques.make(step, file: "p.yaml") }
      XCTFail("validated without an error", file: file, line: line)
    } catch let error as PipelineError {
      return error
    } catch {
      XCTFail("not a PipelineError: \(error)", file: file, line: line)
    }
    return nil
  }

  func testValidFileKeepsOrderNamesAndValues() throws {
    let spec = try PipelineSpec.parse(valid, file: "p.yaml")
    XCTAssertEqual(spec.name, "small")
    XCTAssertEqual(spec.summary, "A test pipeline.")
    XCTAssertEqual(spec.model, "digits-mlp")
    XCTAssertEqual(spec.dataset, "digits")
    XCTAssertEqual(spec.steps.map(\.technique), ["prune", "weight-sharing", "huffman"])
    // Unnamed steps are named by position and technique.
    XCTAssertEqual(spec.steps.map(\.name), ["cut", "2-weight-sharing", "3-huffman"])
    XCTAssertEqual(spec.steps.map(\.line), [6, 10, 12])
    XCTAssertEqual(spec.steps[0]["epochs"], .int(2))
    XCTAssertEqual(
      spec.steps[0]["sparsity"], .map([(key: "fc1", value: .float(0.8)), (key: "fc2", value: .float(0.5))]))
    XCTAssertEqual(spec.steps[0].parameterLines["epochs"], 9)
    XCTAssertEqual(spec.steps[1]["bits"], .int(4))
  }

  func testDefaultsFillUnsetSettings() throws {
    let spec = try PipelineSpec.parse(valid, file: "p.yaml")
    let prune = try StepParameters(step: spec.steps[0], file: "p.yaml", descriptor: Prune.descriptor)
    XCTAssertEqual(prune.string("method"), "magnitude")
    XCTAssertEqual(prune.string("scope"), "layer")
    XCTAssertEqual(prune.int("epochs"), 2)
    XCTAssertEqual(prune.perLayerDouble("sparsity")?.value(for: "fc1"), 0.8)
    XCTAssertNil(prune.perLayerDouble("sparsity")?.value(for: "fc3"))
    let share = try StepParameters(step: spec.steps[1], file: "p.yaml", descriptor: ShareWeights.descriptor)
    XCTAssertEqual(share.string("init"), "linear")
    XCTAssertEqual(share.int("epochs"), 2)
    XCTAssertFalse(share.isSet("epochs"))
  }

  func testInvalidYAMLNamesTheLine() {
    let error = parseError("name: x\nsteps:\n  - technique: prune\n    sparsity: [0.5\n")
    XCTAssertNotNil(error)
    XCTAssertEqual(error?.file, "p.yaml")
    XCTAssertTrue(error?.message.contains("not valid YAML") ?? false, error?.message ?? "")
    XCTAssertGreaterThanOrEqual(error?.line ?? 0, 4)
  }

  func testUnknownTopLevelKey() {
    let error = parseError("name: x\nmodle: lenet-5\nsteps: []\n")
    XCTAssertEqual(error?.line, 2)
    XCTAssertEqual(error?.key, "modle")
    XCTAssertTrue(error?.description.hasPrefix("p.yaml:2: modle:") ?? false, error?.description ?? "")
  }

  func testStepWithoutTechnique() {
    let error = parseError("steps:\n  - technique: prune\n  - name: lost\n    epochs: 2\n")
    XCTAssertEqual(error?.line, 3)
    XCTAssertEqual(error?.key, "technique")
    XCTAssertTrue(error?.message.contains("step 2") ?? false, error?.message ?? "")
  }

  func testUnknownTechniqueListsKnownOnes() {
    let error = validationError("steps:\n  - technique: prune\n  - name: q\n    technique: quantise\n")
    XCTAssertEqual(error?.line, 4)
    XCTAssertEqual(error?.key, "technique")
    for known in ["prune", "gradual-prune", "weight-sharing", "huffman", "quantize", "distill", "transfer"] {
      XCTAssertTrue(error?.message.contains(known) ?? false, "\(known) missing from \(error?.message ?? "")")
    }
  }

  func testUnknownSettingListsKnownOnes() {
    let error = validationError("steps:\n  - technique: prune\n    sparsity: 0.5\n    sparsty: 0.9\n")
    XCTAssertEqual(error?.line, 4)
    XCTAssertEqual(error?.key, "sparsty")
    for known in ["method", "scope", "sparsity", "epochs", "lr"] {
      XCTAssertTrue(error?.message.contains(known) ?? false, "\(known) missing from \(error?.message ?? "")")
    }
  }

  func testWrongType() {
    let error = validationError("steps:\n  - technique: fine-tune\n    lr: 0.1\n    epochs: three\n")
    XCTAssertEqual(error?.line, 4)
    XCTAssertEqual(error?.key, "epochs")
    XCTAssertTrue(error?.message.contains("integer") ?? false, error?.message ?? "")
    let choice = validationError("steps:\n  - technique: prune\n    method: random\n")
    XCTAssertEqual(choice?.line, 3)
    XCTAssertEqual(choice?.key, "method")
    XCTAssertTrue(choice?.message.contains("magnitude, structured") ?? false, choice?.message ?? "")
  }

  func testOutOfRangeValue() {
    let error = validationError("steps:\n  - technique: prune\n\n    sparsity: 1.5\n")
    XCTAssertEqual(error?.line, 4)
    XCTAssertEqual(error?.key, "sparsity")
    XCTAssertTrue(error?.message.contains("outside") ?? false, error?.message ?? "")
    let perLayer = validationError("steps:\n  - technique: weight-sharing\n    bits: {fc1: 4, fc2: 12}\n")
    XCTAssertEqual(perLayer?.line, 3)
    XCTAssertEqual(perLayer?.key, "bits")
  }

  func testDuplicateStepNames() {
    let error = parseError(
      "steps:\n  - name: a\n    technique: prune\n  - name: b\n    technique: prune\n  - name: a\n    technique: huffman\n"
    )
    XCTAssertEqual(error?.line, 6)
    XCTAssertEqual(error?.key, "name")
    XCTAssertTrue(error?.message.contains("\"a\"") ?? false, error?.message ?? "")
  }

  func testMissingSteps() {
    let error = parseError("name: x\nmodel: lenet-5\n")
    XCTAssertEqual(error?.key, "steps")
    XCTAssertTrue(error?.message.contains("missing") ?? false, error?.message ?? "")
  }

  func testYAMLRoundTrip() throws {
    let spec = try PipelineSpec.parse(valid, file: "p.yaml")
    XCTAssertEqual(try PipelineSpec.parse(spec.yaml(), file: "again.yaml"), spec)
  }

  func testYAMLRoundTripOfAwkwardValues() throws {
    let spec = PipelineSpec(
      name: "needs quoting: yes", summary: #"The "best" one, C:\models\new"# + "\n\tsecond line",
      model: "/tmp/a model.safetensors",
      dataset: "digits",
      steps: [
        StepSpec(
          name: "true", technique: "distill",
          parameters: [
            (key: "student", value: .string("mlp:30,10")), (key: "teacher", value: .string("no")),
            (key: "lr", value: .float(1e-5)), (key: "alpha", value: .float(0.5)), (key: "epochs", value: .int(3)),
            (key: "compare_alone", value: .bool(false)), (key: "hint", value: .string("relu1:relu1")),
          ]),
        StepSpec(
          name: "2-prune", technique: "prune",
          parameters: [
            (key: "sparsity", value: .map([(key: "fc1", value: .float(0.25)), (key: "block 2.conv", value: .int(0))]))
          ]
        ),
        StepSpec(
          name: "sweep", technique: "sensitivity",
          parameters: [(key: "sparsities", value: .list([.float(0.5), .float(0.9)]))]),
      ])
    let again = try PipelineSpec.parse(spec.yaml(), file: "again.yaml")
    XCTAssertEqual(again, spec)
    XCTAssertEqual(again.summary, spec.summary)
    XCTAssertEqual(again.steps[0]["teacher"], .string("no"))
    XCTAssertEqual(again.steps[0]["lr"], .float(1e-5))
  }
}
