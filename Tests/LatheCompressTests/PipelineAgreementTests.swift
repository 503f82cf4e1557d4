import Foundation
import LatheTensor
import XCTest

@testable import LatheCompress

/// Every step records how closely its model follows the pipeline's input model.
final class PipelineAgreementTests: XCTestCase {
  func testEveryStepRecordsAgreementAndMeanKLAgainstTheInputModel() throws {
    let data = blobSplit()
    let steps = [
      StepSpec(
        name: "prune", technique: "prune",
        parameters: [(key: "sparsity", value: .float(0.95)), (key: "epochs", value: .int(0))]),
      StepSpec(name: "int8", technique: "quantize"),
    ]
    let runner = try PipelineRunner(
      spec: PipelineSpec(name: "test", model: nil, dataset: nil, steps: steps), model: trainedDigitsMLP(data),
      data: data, outputDirectory: try temporaryDirectory(self), loadModel: { _ in throw StepFailure("none") },
      options: .init(latencySeconds: 0.001))
    let metrics = try runner.runAll()
    let input = runner.snapshots[0].deployed.predict(data.test.inputs)
    for index in 1...2 {
      let step = runner.snapshots[index].deployed.predict(data.test.inputs)
      // Worked out here: argmax per row, and KL of row softmaxes by the plain formula.
      let agreement =
        Double(zip(input.argmaxRows(), step.argmaxRows()).filter { $0 == $1 }.count) / Double(data.test.count)
      let columns = input.shape[1]
      let (p, q) = (input.scalars, step.scalars)
      var total = 0.0
      for row in 0..<data.test.count {
        let range = row * columns..<(row + 1) * columns
        let ep = range.map { exp(Double(p[$0])) }
        let eq = range.map { exp(Double(q[$0])) }
        let (sp, sq) = (ep.reduce(0, +), eq.reduce(0, +))
        total += zip(ep, eq).reduce(0) { $0 + $1.0 / sp * log(($1.0 / sp) / ($1.1 / sq)) }
      }
      let extra = metrics[index].extra
      XCTAssertEqual(try XCTUnwrap(extra["agreement_with_input"]), agreement, accuracy: 1e-12, metrics[index].name)
      XCTAssertEqual(
        try XCTUnwrap(extra["mean_kl_with_input"]), total / Double(data.test.count), accuracy: 1e-6,
        metrics[index].name)
    }
    XCTAssertGreaterThan(
      try XCTUnwrap(metrics[1].extra["mean_kl_with_input"]), 0, "95% of the weights gone must change the outputs")
    XCTAssertNil(metrics[0].extra["agreement_with_input"], "the input model is the reference, not compared")
  }

  func testAModelOfOtherClassesIsNotCompared() {
    let data = blobSplit()
    let input = Architecture.digitsMLP.build(classCount: 3, seed: 1)
    var findings = StepFindings()
    findings.compare(Architecture.digitsMLP.build(classCount: 2, seed: 1), withInput: input, on: data.test)
    XCTAssertNil(findings.agreementWithInput, "2 classes against 3: a transfer step's head")
    XCTAssertNil(findings.metricsExtra["mean_kl_with_input"])
    findings.compare(input.copy(), withInput: input, on: data.test)
    XCTAssertEqual(findings.agreementWithInput, 1)
    XCTAssertEqual(findings.meanKLWithInput, 0)
  }
}
