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

/// A teacher that ends in Softmax (as imported classifiers do) teaches through its logits: its
/// probabilities softened by a temperature would be nearly uniform and teach almost nothing.
final class SoftmaxTeacherTests: XCTestCase {
  func testDistillLearnsFromTheLogitsOfASoftmaxTeacher() throws {
    let labelled = blobSplit()
    let trained = trainedDigitsMLP(labelled)
    let teacher = try Model(
      architecture: "softmax-teacher", inputShape: trained.inputShape, classCount: trained.classCount,
      nodes: trained.nodes + [Node("probabilities", Function(.softmax), inputs: [trained.nodes.last!.name])])
    let strip = { (d: Dataset) in Dataset(name: "blobs", inputs: d.inputs, labels: nil, classCount: d.classCount) }
    let data = DatasetSplit(train: strip(labelled.train), test: strip(labelled.test))
    let student = try technique(
      "distill",
      [
        ("student", .string("mlp:16")), ("alpha", .float(1)), ("temperature", .float(8)), ("epochs", .int(6)),
        ("compare_alone", .bool(false)),
      ]
    ).applied(to: teacher, context: context(data, input: teacher))
    let agreement = try ModelComparison.compare(student, with: teacher, on: labelled.test)[0].agreement
    XCTAssertGreaterThan(agreement, 0.9, "the student learned the teacher's classes without labels")
    // Taught by logits the student is about as confident as the teacher; taught by probabilities
    // (read as logits) it would learn outputs in [0, 1], whose softmax is nearly uniform.
    func confidence(_ logits: Tensor<Float>) -> Float {
      let classes = logits.shape[1]
      let rows = logits.scalars.count / classes
      return (0..<rows).map { r -> Float in
        let row = logits.scalars[(r * classes)..<((r + 1) * classes)]
        let top = row.max()!
        return 1 / row.map { exp($0 - top) }.reduce(0, +)
      }.reduce(0, +) / Float(rows)
    }
    let taught = confidence(student.predict(labelled.test.inputs))
    let original = confidence(trained.predict(labelled.test.inputs))
    XCTAssertGreaterThan(taught, 0.5 * original + 0.5 / Float(trained.classCount))
  }
}
