import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheCompress

final class PipelineRunnerTests: XCTestCase {
  func runner(_ steps: [StepSpec], model: Model, data: DatasetSplit) throws -> (PipelineRunner, URL) {
    let folder = try temporaryDirectory(self)
    let spec = PipelineSpec(name: "test", model: nil, dataset: nil, steps: steps)
    let runner = try PipelineRunner(
      spec: spec, model: model, data: data, outputDirectory: folder, loadModel: { _ in throw StepFailure("none") },
      options: .init(latencySeconds: 0.001))
    return (runner, folder)
  }

  func step(_ name: String, _ technique: String, _ parameters: [(String, ParameterValue)] = []) -> StepSpec {
    StepSpec(name: name, technique: technique, parameters: parameters.map { (key: $0.0, value: $0.1) })
  }

  let deepCompression: [StepSpec] = [
    StepSpec(
      name: "prune", technique: "prune",
      parameters: [(key: "sparsity", value: .float(0.8)), (key: "epochs", value: .int(1))]),
    StepSpec(
      name: "share", technique: "weight-sharing",
      parameters: [(key: "bits", value: .int(4)), (key: "epochs", value: .int(1))]),
    StepSpec(name: "huffman", technique: "huffman"),
  ]

  func testMetricsAreMeasuredOnTheSavedFiles() throws {
    let data = blobSplit()
    let (runner, folder) = try runner(deepCompression, model: trainedDigitsMLP(data), data: data)
    let metrics = try runner.runAll()
    XCTAssertTrue(runner.isFinished)
    XCTAssertEqual(metrics.map(\.name), ["input", "prune", "share", "huffman"])
    XCTAssertEqual(metrics[0].technique, "none")
    XCTAssertEqual(metrics[0].compressionRatio, 1)
    for m in metrics {
      XCTAssertTrue(m.modelPath.hasPrefix(folder.path), m.modelPath)
      XCTAssertTrue(FileManager.default.fileExists(atPath: m.modelPath), m.modelPath)
      XCTAssertEqual(m.sizeBytes, try fileSize(URL(fileURLWithPath: m.modelPath)), m.name)
      XCTAssertEqual(m.compressionRatio, Double(metrics[0].sizeBytes) / Double(m.sizeBytes), accuracy: 1e-12)
      let reloaded = try ModelFile.load(from: URL(fileURLWithPath: m.modelPath), builders: CompressedLayers.builders)
      XCTAssertEqual(Double(Evaluator.accuracy(of: reloaded, on: data.test)), m.accuracy, m.name)
      XCTAssertEqual(m.parameters, 64 * 64 + 64 + 64 * 3 + 3, m.name)
    }
    XCTAssertEqual(metrics.map(\.sizeBytes), metrics.map(\.sizeBytes).sorted(by: >))
    XCTAssertEqual(metrics[1].nonzeros, 4096 - 3277 + 192 - 154 + metrics[0].nonzeros - 4096 - 192)
    XCTAssertGreaterThan(metrics[3].accuracy, 0.9)
  }

  func testStepBackDropsTheLastSnapshot() throws {
    let data = blobSplit()
    let (runner, _) = try runner(Array(deepCompression.prefix(2)), model: trainedDigitsMLP(data), data: data)
    try runner.runNextStep()
    try runner.runNextStep()
    XCTAssertEqual(runner.snapshots.count, 3)
    let afterPrune = runner.snapshots[1].model.parameter(named: "fc1.weight")!.value
    runner.stepBack()
    XCTAssertEqual(runner.snapshots.count, 2)
    XCTAssertEqual(runner.nextStep, 1)
    XCTAssertFalse(runner.isFinished)
    XCTAssertEqual(runner.current?.metrics.name, "prune")
    XCTAssertEqual(runner.current?.model.parameter(named: "fc1.weight")!.value, afterPrune)
    try runner.runNextStep()
    XCTAssertEqual(runner.snapshots.map(\.metrics.name), ["input", "prune", "share"])
    runner.stepBack()
    runner.stepBack()
    runner.stepBack()  // never past the input
    XCTAssertEqual(runner.snapshots.count, 1)
  }

  func testCancelledStepLeavesSnapshotsUnchanged() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data)
    let original = model.parameter(named: "fc1.weight")!.value.scalars
    let (runner, _) = try runner(
      [step("tune", "fine-tune", [("epochs", .int(3))]), step("prune", "prune")], model: model, data: data)
    try runner.measureInput()
    let before = runner.snapshots.map(\.metrics)
    XCTAssertThrowsError(try runner.runNextStep(isCancelled: { true })) { error in
      XCTAssertTrue(error is StepCancelled, "\(error)")
    }
    XCTAssertEqual(runner.snapshots.map(\.metrics), before)
    XCTAssertEqual(runner.nextStep, 0)
    XCTAssertEqual(runner.snapshots[0].model.parameter(named: "fc1.weight")!.value.scalars, original)
    // A step that does run never changes the snapshot it started from either.
    try runner.runNextStep()
    XCTAssertEqual(runner.snapshots[0].model.parameter(named: "fc1.weight")!.value.scalars, original)
    XCTAssertNotEqual(runner.snapshots[1].model.parameter(named: "fc1.weight")!.value.scalars, original)
  }

  /// A file with test data only (an .npz without x_train) gives an empty train split: steps are
  /// refused with the reason, where int8 calibration used to trap on missing ranges.
  func testAnEmptyTrainSplitIsRefusedBeforeAStep() throws {
    let full = blobSplit()
    let data = DatasetSplit(train: full.test.subset([]), test: full.test)
    let (runner, _) = try runner([step("int8", "quantize")], model: trainedDigitsMLP(full), data: data)
    XCTAssertThrowsError(try runner.runNextStep()) { error in
      XCTAssertTrue(error is StepFailure, "\(error)")
      XCTAssertTrue("\(error)".contains("int8: quantize") && "\(error)".contains("x_train"), "\(error)")
    }
    XCTAssertEqual(runner.snapshots.count, 1)
  }

  /// Weight-only quantization works on the weights alone (no calibration): it runs on
  /// test-only data.
  func testWeightOnlyRunsWithoutATrainSplit() throws {
    let full = blobSplit()
    let data = DatasetSplit(train: full.test.subset([]), test: full.test)
    let (runner, _) = try runner([step("int4", "weight-only")], model: trainedDigitsMLP(full), data: data)
    let metrics = try runner.runAll()
    XCTAssertEqual(metrics.map(\.name), ["input", "int4"])
    XCTAssertLessThan(metrics[1].sizeBytes, metrics[0].sizeBytes)
  }

  func testTrainingAfterQuantizeFailsClearly() throws {
    let data = blobSplit()
    let (runner, _) = try runner(
      [step("int8", "quantize"), step("tune", "fine-tune")], model: trainedDigitsMLP(data), data: data)
    try runner.runNextStep()
    XCTAssertThrowsError(try runner.runNextStep()) { error in
      XCTAssertTrue(error is StepFailure, "\(error)")
      XCTAssertTrue("\(error)".contains("tune") && "\(error)".contains("before quantize"), "\(error)")
    }
    XCTAssertEqual(runner.snapshots.count, 2)
  }

  /// A model opened from a pruned step's file (a search trial's) holds sparse inference layers
  /// with their ReLUs folded in. A training step runs on it (the layers train again as masked
  /// dense ones, ReLUs back in the graph), and the pruned weights stay zero; it used to be
  /// refused with "put it before quantize", in a pipeline without a quantize step.
  func testAPrunedModelFromAFileTrainsAgain() throws {
    let data = blobSplit()
    let (pruning, _) = try runner(
      [step("prune", "prune", [("sparsity", .float(0.8))])], model: trainedDigitsMLP(data), data: data)
    let pruned = try XCTUnwrap(try pruning.runAll().last)
    let opened = try ModelFile.load(from: URL(fileURLWithPath: pruned.modelPath), builders: CompressedLayers.builders)
    XCTAssertTrue(opened.nodes.contains { $0.layer is SparseLinear }, "the file holds sparse layers")
    XCTAssertTrue(opened.trainableParameters.allSatisfy { $0.shape.count == 1 }, "only biases would train")

    let (runner, _) = try runner(
      [
        step("tune", "fine-tune", [("epochs", .int(1))]),
        step(
          "more", "gradual-prune", [("final_sparsity", .float(0.9)), ("epochs", .int(1)), ("pruning_epochs", .int(1))]),
      ], model: opened, data: data)
    try runner.runNextStep()
    let tuned = try XCTUnwrap(runner.current?.model)
    XCTAssertTrue(tuned.nodes.contains { $0.layer is Linear } && tuned.nodes.contains { $0.layer.op == "relu" })
    let before = try XCTUnwrap(Deployment.trainingModel(opened).parameter(named: "fc1.weight")?.value)
    let after = try XCTUnwrap(tuned.parameter(named: "fc1.weight")?.value)
    XCTAssertNotEqual(before.scalars, after.scalars, "fine-tuning moved the weights")
    let revived = zip(before.scalars, after.scalars).filter { $0.0 == 0 && $0.1 != 0 }.count
    XCTAssertEqual(revived, 0, "weights pruned in the file stay zero")
    XCTAssertEqual(runner.snapshots[1].metrics.nonzeros, runner.snapshots[0].metrics.nonzeros)
    let more = try runner.runNextStep()
    XCTAssertGreaterThan(1 - Double(more.nonzeros) / Double(more.parameters), 0.85)
  }

  func testTrainingAfterQuantizeFailsForAModelWithBatchNorm() throws {
    let data = blobSplit(train: 60, test: 30)
    let model = Architecture.digitsCNN.build(classCount: 3, seed: 0)
    let (runner, _) = try runner([step("int8", "quantize"), step("tune", "fine-tune")], model: model, data: data)
    try runner.runNextStep()
    XCTAssertThrowsError(try runner.runNextStep()) { error in
      XCTAssertTrue("\(error)".contains("before quantize"), "\(error)")
    }
  }

  func testInvalidStepsFailBeforeAnythingRuns() {
    let data = blobSplit(train: 30, test: 30)
    XCTAssertThrowsError(
      try runner(
        [step("a", "prune"), step("b", "prune", [("sparsity", .float(2))])], model: trainedDigitsMLP(data, epochs: 0),
        data: data)
    ) { error in
      XCTAssertEqual((error as? PipelineError)?.key, "sparsity")
    }
  }
}
