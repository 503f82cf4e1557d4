import LatheTensor
import XCTest

@testable import LatheCompress

/// Every training step with a teacher runs on a set without labels (distillation from the input
/// model); without a teacher the runner refuses it.
final class LabelFreeTrainingTests: XCTestCase {
  func testTrainingStepsWithATeacherNeedNoLabels() throws {
    for name in ["fine-tune", "gradual-prune", "weight-sharing", "prune"] {
      // gradual-prune trains at least through its pruning epochs.
      let epochs: [(String, ParameterValue)] =
        name == "gradual-prune" ? [("epochs", .int(2)), ("pruning_epochs", .int(1))] : [("epochs", .int(1))]
      XCTAssertFalse(try technique(name, epochs + [("teacher", .string("input"))]).needsLabels, name)
      XCTAssertTrue(try technique(name, epochs).needsLabels, name)
    }
  }

  func testFineTuneWithTheInputAsTeacherRunsWithoutLabelsThroughTheRunner() throws {
    let labelled = blobSplit()
    let model = trainedDigitsMLP(labelled, epochs: 1)
    let strip = { (d: Dataset) in Dataset(name: "blobs", inputs: d.inputs, labels: nil, classCount: d.classCount) }
    let data = DatasetSplit(train: strip(labelled.train), test: strip(labelled.test))
    func run(_ parameters: [(key: String, value: ParameterValue)]) throws -> [StepMetrics] {
      let runner = try PipelineRunner(
        spec: PipelineSpec(
          name: "t", model: nil, dataset: nil,
          steps: [StepSpec(name: "tune", technique: "fine-tune", parameters: parameters)]),
        model: model, data: data, outputDirectory: try temporaryDirectory(self), loadModel: { _ in model.copy() },
        options: .init(latencySeconds: 0.001))
      return try runner.runAll()
    }
    let metrics = try run([(key: "epochs", value: .int(2)), (key: "teacher", value: .string("input"))])
    XCTAssertGreaterThan(try XCTUnwrap(metrics.last?.extra["agreement_with_input"]), 0.9)
    XCTAssertThrowsError(try run([(key: "epochs", value: .int(2))])) {
      XCTAssertTrue("\($0)".contains("label"), "\($0)")
    }
  }
}
