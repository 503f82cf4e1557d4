import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheCompress

/// Configurations built in code against the same settings read from a pipeline step, the
/// apply/applied contract, and the typed state the runner carries between steps.
final class TechniqueConfigTests: XCTestCase {
  // Compared with == inside XCTAssertTrue: a failure would otherwise print every weight.
  func weights(_ model: Model) -> [String: [Float]] {
    Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.parameter.value.scalars) })
  }

  func masks(_ model: Model) -> [String: [Float]] {
    Dictionary(
      uniqueKeysWithValues: model.namedParameters.compactMap { p in p.parameter.mask.map { (p.name, $0.scalars) } })
  }

  func testPruneConfigInCodeGivesTheModelTheSameSettingsFromAFileGive() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data)
    let cases: [(PruneConfig, [(String, ParameterValue)])] = [
      (PruneConfig(sparsity: .all(0.7)), [("sparsity", .float(0.7))]),
      (PruneConfig(scope: .global, sparsity: .all(0.6)), [("scope", .string("global")), ("sparsity", .float(0.6))]),
      (
        PruneConfig(sparsity: .each(["fc1": 0.9]), training: .defaults(epochs: 1, learningRate: 0.05)),
        [("sparsity", .map([(key: "fc1", value: .float(0.9))])), ("epochs", .int(1)), ("lr", .float(0.05))]
      ),
      (
        PruneConfig(method: .structured, sparsity: .all(0.5), criterion: .l2),
        [("method", .string("structured")), ("sparsity", .float(0.5)), ("criterion", .string("l2"))]
      ),
    ]
    for (config, settings) in cases {
      let fromCode = try Prune(config).applied(to: model, context: context(data))
      let fromFile = try technique("prune", settings).applied(to: model, context: context(data))
      XCTAssertTrue(weights(fromCode) == weights(fromFile), "\(settings)")
      XCTAssertTrue(masks(fromCode) == masks(fromFile), "\(settings)")
      XCTAssertTrue(weights(fromCode) != weights(model), "the step must change something: \(settings)")
    }
  }

  func testInt8QuantizeConfigInCodeGivesTheModelTheSameSettingsFromAFileGive() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data)
    let config = Int8QuantizeConfig(
      granularity: .perTensor, calibration: .percentile, percentile: 99.9, calibrationSamples: 128, symmetric: true)
    let fromCode = try Int8Quantize(config).applied(to: model, context: context(data))
    let fromFile = try technique(
      "quantize",
      [
        ("granularity", .string("per-tensor")), ("calibration", .string("percentile")), ("percentile", .float(99.9)),
        ("calibration_samples", .int(128)), ("symmetric", .bool(true)),
      ]
    ).applied(to: model, context: context(data))
    XCTAssertTrue(fromCode.nodes.first { $0.name == "fc1" }?.layer is QuantizedLinear)
    XCTAssertEqual(fromCode.nodes.map(\.name), fromFile.nodes.map(\.name))
    XCTAssertEqual(fromCode.predict(data.test.inputs), fromFile.predict(data.test.inputs))
    // A different setting gives a different model: the comparison above can fail.
    let perChannel = try Int8Quantize(Int8QuantizeConfig(calibrationSamples: 128)).applied(
      to: model, context: context(data))
    XCTAssertNotEqual(perChannel.predict(data.test.inputs), fromCode.predict(data.test.inputs))
  }

  func testApplyChangesTheModelItIsGivenAndAppliedLeavesItAlone() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data)
    let before = weights(model)
    let prune = Prune(PruneConfig(sparsity: .all(0.5)))
    let copy = try prune.applied(to: model, context: context(data))
    XCTAssertTrue(weights(model) == before)
    XCTAssertNil(model.parameter(named: "fc1.weight")!.mask)
    XCTAssertTrue(weights(copy) != before)
    let same = try prune.apply(to: model, context: context(data))
    XCTAssertTrue(same === model)
    XCTAssertTrue(weights(model) == weights(copy))
  }

  func testRunnerHandsEachStepACopyAndKeepsTheSnapshotAsItWas() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data)
    let before = weights(model)
    let runner = try PipelineRunner(
      spec: PipelineSpec(
        name: "test", model: nil, dataset: nil,
        steps: [
          StepSpec(name: "prune", technique: "prune", parameters: [(key: "sparsity", value: .float(0.8))]),
          StepSpec(
            name: "quantize", technique: "quantize", parameters: [(key: "calibration_samples", value: .int(64))]),
        ]),
      model: model, data: data, outputDirectory: try temporaryDirectory(self),
      loadModel: { _ in throw StepFailure("none") }, options: .init(latencySeconds: 0.001))
    try runner.runNextStep()
    XCTAssertFalse(runner.snapshots[1].model === runner.snapshots[0].model)
    XCTAssertTrue(weights(runner.snapshots[0].model) == before, "the input snapshot must not change")
    XCTAssertNil(runner.snapshots[0].model.parameter(named: "fc1.weight")!.mask)
    let pruned = weights(runner.snapshots[1].model)
    XCTAssertNotEqual(pruned, before)
    try runner.runNextStep()
    XCTAssertTrue(weights(runner.snapshots[1].model) == pruned, "the prune snapshot must not change")
    XCTAssertTrue(runner.snapshots[1].model.nodes.first { $0.name == "fc1" }?.layer is Linear)
    XCTAssertTrue(runner.snapshots[2].model.nodes.first { $0.name == "fc1" }?.layer is QuantizedLinear)
  }

  func testSensitivityTargetsReachALaterPruneThroughTheRunnerAndTheMetricsKeepTheirKeys() throws {
    let data = blobSplit()
    let runner = try PipelineRunner(
      spec: PipelineSpec(
        name: "test", model: nil, dataset: nil,
        steps: [
          StepSpec(name: "sens", technique: "sensitivity", parameters: [(key: "max_drop", value: .float(5))]),
          StepSpec(name: "prune", technique: "prune", parameters: [(key: "use_sensitivity", value: .bool(true))]),
        ]),
      model: trainedDigitsMLP(data), data: data, outputDirectory: try temporaryDirectory(self),
      loadModel: { _ in throw StepFailure("none") }, options: .init(latencySeconds: 0.001))
    let metrics = try runner.runAll()
    let targets = try XCTUnwrap(runner.state.sensitivityTargets?.sparsityByLayer)
    XCTAssertEqual(Set(targets.keys), ["fc1", "fc2"])
    // Every step also compares itself with the input model (ModelMeasurement.comparisonExtra).
    let comparisonKeys: Set = [
      "agreement_with_input", "mean_kl_with_input", "p99_kl_with_input", "sqnr_db_with_input", "cosine_with_input",
    ]
    XCTAssertEqual(
      metrics[1].extra.filter { !comparisonKeys.contains($0.key) },
      ["target_fc1": targets["fc1"]!, "target_fc2": targets["fc2"]!])
    XCTAssertEqual(Set(metrics[2].extra.keys), comparisonKeys)
    for layer in ["fc1", "fc2"] {
      let p = runner.snapshots[2].model.parameter(named: "\(layer).weight")!
      XCTAssertEqual(p.zeroCount, Int((Double(p.value.count) * targets[layer]!).rounded()), layer)
    }
  }

  func testFindingsKeepTheirPublishedKeys() {
    var findings = StepFindings()
    XCTAssertEqual(findings.metricsExtra, [:])
    findings.ptqAccuracy = 0.5
    findings.fakeQuantAccuracy = 0.6
    findings.teacherAccuracy = 0.7
    findings.distilledMeanAccuracy = 0.8
    findings.studentAloneAccuracy = 0.1
    findings.studentAloneMeanAccuracy = 0.2
    findings.scratchAccuracy = 0.3
    findings.labelledExamples = 20
    findings.sensitivityTargets = SensitivityTargets(["fc1": 0.9])
    XCTAssertEqual(
      findings.metricsExtra,
      [
        "ptq_accuracy": 0.5, "fake_quant_accuracy": 0.6, "teacher_accuracy": 0.7, "distilled_mean_accuracy": 0.8,
        "student_alone_accuracy": 0.1, "student_alone_mean_accuracy": 0.2, "scratch_accuracy": 0.3,
        "labelled_examples": 20, "target_fc1": 0.9,
      ])
  }

  func testConfigsBuiltInCodeRejectWhatAFileWouldHave() {
    XCTAssertThrowsError(try WeightOnlyConfig(groupSize: 48)) { e in
      XCTAssertEqual("\(e)", "weight-only: group_size: 48 is not a multiple of 32")
    }
    XCTAssertThrowsError(try WeightOnlyConfig(bits: .each(["fc1": 12]))) { e in
      XCTAssertEqual("\(e)", "weight-only: bits: 12 bits: expected 2 to 8, or 32 (fp32)")
    }
    XCTAssertThrowsError(try WeightOnlyConfig(method: .awq, actOrder: true)) { e in
      XCTAssertEqual("\(e)", "weight-only: act_order: act_order applies to method: gptq")
    }
    XCTAssertThrowsError(try GradualPruneConfig(pruningEpochs: 20)) { e in
      XCTAssertEqual("\(e)", "gradual-prune: epochs: must be at least pruning_epochs (20)")
    }
    XCTAssertThrowsError(try SensitivityAnalysisConfig(sparsities: [0.5, 1.5])) { e in
      XCTAssertEqual("\(e)", "sensitivity: sparsities: expected a list of fractions between 0 and 1")
    }
    XCTAssertNoThrow(try WeightOnlyConfig(bits: .each(["fc1": 8, "fc2": 32]), groupSize: 64))
  }

  func testALayerTheModelLacksIsNamedWithTheFileLineOrTheTechnique() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data)
    XCTAssertThrowsError(
      try Int8Quantize(Int8QuantizeConfig(layers: ["fc9"])).applied(to: model, context: context(data))
    ) { e in
      XCTAssertEqual("\(e)", "quantize: layers: no quantizable layer \"fc9\"; layers: fc1, fc2")
    }
    let spec = try PipelineSpec.parse(
      "name: p\nsteps:\n  - technique: quantize\n    layers: [fc9]\n", file: "p.yaml")
    XCTAssertThrowsError(
      try Techniques.make(spec.steps[0], file: "p.yaml").applied(to: model, context: context(data))
    ) { e in
      XCTAssertEqual("\(e)", "p.yaml:4: layers: no quantizable layer \"fc9\"; layers: fc1, fc2")
    }
  }
}
