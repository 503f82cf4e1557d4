import Foundation
import LatheTensor
import XCTest

@testable import LatheCompress

/// Per-layer int8 sensitivity and the automatic skip list of `quantize` (max_agreement_drop).
final class QuantizationSensitivityTests: XCTestCase {
  /// Blobs in which pixel 5 is always 0, and a model trained on them whose first layer then
  /// gets a huge weight on that dead pixel: the fp32 model computes exactly the same function,
  /// but int8 of that layer (per tensor or per channel: every row has one) spends its whole range on the dead weights and rounds
  /// every live one to zero. The later layers quantize well.
  func fragileFirstLayer() -> (Model, DatasetSplit, [String]) {
    func deadPixel(_ d: Dataset) -> Dataset {
      var scalars = d.inputs.scalars
      for i in stride(from: 5, to: scalars.count, by: 64) { scalars[i] = 0 }
      return Dataset(
        name: d.name, inputs: Tensor(shape: d.inputs.shape, scalars: scalars), labels: d.labels,
        classCount: d.classCount)
    }
    let blobs = blobSplit()
    let data = DatasetSplit(train: deadPixel(blobs.train), test: deadPixel(blobs.test))
    let model = trainedDigitsMLP(data)
    let linears = model.nodes.filter { $0.layer is Linear }.map(\.name)
    let first = model.nodes.first { $0.name == linears[0] }!.layer as! Linear
    var weight = first.weight.value.scalars
    let columns = first.weight.value.shape[1]
    for row in 0..<first.weight.value.shape[0] { weight[row * columns + 5] = 1000 }
    first.weight.value = Tensor(shape: first.weight.value.shape, scalars: weight)
    return (model, data, linears)
  }

  let perTensor: (String, ParameterValue) = ("granularity", .string("per-tensor"))

  func testTheFirstLayerIsTheMostSensitiveAndStaysFP32WithinTheBudget() throws {
    let (model, data, linears) = fragileFirstLayer()
    let step = context(data)
    let quantized = try technique("quantize", [perTensor, ("max_agreement_drop", .float(0.01))])
      .applied(to: model, context: step)
    let plan = try XCTUnwrap(step.findings.int8SkipList)
    XCTAssertLessThan(plan.agreementAllQuantized, 0.9, "the dead-pixel weights must make plain int8 fail")
    XCTAssertGreaterThanOrEqual(plan.agreementWithSkips, 0.99)
    XCTAssertEqual(plan.rows.first?.layer, linears.first)
    XCTAssertEqual(plan.rows.map(\.meanKL), plan.rows.map(\.meanKL).sorted(by: >), "most sensitive first")
    XCTAssertEqual(plan.skipped, [linears[0]], "only the fragile layer stays fp32")
    for name in linears {
      let layer = quantized.nodes.first { $0.name == name }?.layer
      XCTAssertEqual(layer is Linear, plan.skipped.contains(name), name)
    }
    XCTAssertEqual(step.findings.metricsExtra["skipped_layers"], 1)
    XCTAssertEqual(step.findings.metricsExtra["agreement_with_skips"], plan.agreementWithSkips)
  }

  func testNothingIsSkippedWhenPlainInt8IsWithinBudget() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data)
    let step = context(data)
    let quantized = try technique("quantize", [("max_agreement_drop", .float(0.05))]).applied(to: model, context: step)
    XCTAssertEqual(step.findings.int8SkipList?.skipped, [])
    XCTAssertEqual(step.findings.int8SkipList?.rows, [], "no per-layer sweep when none is needed")
    XCTAssertFalse(quantized.nodes.contains { $0.layer is Linear })
  }

  func testSkipNamesMustBeQuantizableLayers() throws {
    let data = blobSplit()
    XCTAssertThrowsError(
      try technique("quantize", [("skip", .list([.string("fc9")]))]).applied(
        to: trainedDigitsMLP(data, epochs: 1), context: context(data))
    ) { XCTAssertTrue("\($0)".contains("skip") && "\($0)".contains("fc9"), "\($0)") }
  }

  func testSensitivityInInt8ModeReportsEveryLayerAndLeavesTheModel() throws {
    let (model, data, _) = fragileFirstLayer()
    let before = model.predict(data.test.inputs)
    let step = context(data)
    let dir = try temporaryDirectory(self)
    step.outputDirectory = dir
    let out = try technique("sensitivity", [("mode", .string("int8"))]).applied(to: model, context: step)
    XCTAssertEqual(out.predict(data.test.inputs), before)
    let rows = try XCTUnwrap(step.findings.int8Sensitivity)
    XCTAssertEqual(Set(rows.map(\.layer)), Set(model.nodes.filter { $0.layer is Linear }.map(\.name)))
    XCTAssertEqual(rows.first?.layer, "fc1")
    XCTAssertGreaterThan(rows.first!.meanKL, rows.last!.meanKL)
    XCTAssertLessThan(rows.first!.agreement, rows.last!.agreement)
    let csv = try String(contentsOf: dir.appendingPathComponent("sensitivity.csv"), encoding: .utf8)
    XCTAssertTrue(csv.hasPrefix("layer,agreement,mean_kl,sqnr_db,kept_fp32\nfc1,"), csv)
    XCTAssertNotNil(step.findings.metricsExtra["int8_kl_fc1"])
  }
}
