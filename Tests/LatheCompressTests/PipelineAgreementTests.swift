import Foundation
import LatheTensor
import XCTest

@testable import LatheCompress

/// Every step records how closely its model follows the pipeline's input model.
final class PipelineAgreementTests: XCTestCase {
  func testEveryStepRecordsAgreementKLAndSQNRAgainstTheInputModel() throws {
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
      var divergences: [Double] = []
      for row in 0..<data.test.count {
        let range = row * columns..<(row + 1) * columns
        let ep = range.map { exp(Double(p[$0])) }
        let eq = range.map { exp(Double(q[$0])) }
        let (sp, sq) = (ep.reduce(0, +), eq.reduce(0, +))
        divergences.append(zip(ep, eq).reduce(0) { $0 + $1.0 / sp * log(($1.0 / sp) / ($1.1 / sq)) })
      }
      // Nearest rank: the smallest KL with at least 99% of them at or below it.
      let p99 = divergences.sorted()[Int((0.99 * Double(divergences.count)).rounded(.up)) - 1]
      let signal = p.reduce(0.0) { $0 + Double($1) * Double($1) }
      let noise = zip(p, q).reduce(0.0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) }
      let extra = metrics[index].extra
      let name = metrics[index].name
      XCTAssertEqual(try XCTUnwrap(extra["agreement_with_input"]), agreement, accuracy: 1e-12, name)
      XCTAssertEqual(
        try XCTUnwrap(extra["mean_kl_with_input"]), divergences.reduce(0, +) / Double(data.test.count),
        accuracy: 1e-6, name)
      XCTAssertEqual(try XCTUnwrap(extra["p99_kl_with_input"]), p99, accuracy: 1e-6, name)
      XCTAssertEqual(try XCTUnwrap(extra["sqnr_db_with_input"]), 10 * log10(signal / noise), accuracy: 1e-3, name)
    }
    XCTAssertGreaterThan(
      try XCTUnwrap(metrics[1].extra["mean_kl_with_input"]), 0, "95% of the weights gone must change the outputs")
    XCTAssertGreaterThan(try XCTUnwrap(metrics[1].extra["p99_kl_with_input"]), 0)
    XCTAssertLessThan(try XCTUnwrap(metrics[1].extra["sqnr_db_with_input"]), 40, "a changed model has noise")
    XCTAssertNil(metrics[0].extra["agreement_with_input"], "the input model is the reference, not compared")
    // Every step is timed at the batch the input model was.
    XCTAssertEqual(Set(metrics.map(\.latencyUs.batch)), [metrics[0].latencyUs.batch])
  }

  func testAnIdenticalModelHasNoDivergenceAndAModelOfOtherClassesIsNotCompared() throws {
    let data = blobSplit()
    let input = Architecture.digitsMLP.build(classCount: 3, seed: 1)
    let folder = try temporaryDirectory(self)
    func measure(_ model: Model, _ name: String) throws -> StepMetrics {
      try ModelMeasurement.measure(
        model, name: name, technique: "none", test: data.test,
        path: folder.appendingPathComponent("\(name).safetensors"),
        originalSize: nil, wallSeconds: 0, options: .init(latencySeconds: 0.001), reference: input
      ).0
    }
    let same = try measure(input.copy(), "same")
    XCTAssertEqual(same.extra["agreement_with_input"], 1)
    XCTAssertEqual(same.extra["mean_kl_with_input"], 0)
    XCTAssertEqual(same.extra["p99_kl_with_input"], 0)
    XCTAssertEqual(same.extra["sqnr_db_with_input"], .infinity, "no noise at all")
    let other = try measure(Architecture.digitsMLP.build(classCount: 2, seed: 1), "other")
    XCTAssertNil(other.extra["agreement_with_input"], "2 classes against 3: a transfer step's head")
    XCTAssertNil(other.extra["mean_kl_with_input"])
    XCTAssertNil(other.extra["sqnr_db_with_input"])
  }
}
