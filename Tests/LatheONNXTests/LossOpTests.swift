import Foundation
import LatheIO
import LatheTensor
import LatheWorkspace
import XCTest

@testable import LatheONNX

/// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: values against hand-computed ones
/// (ONNX's semantics: `mean` divides by the summed weights of the counted elements), the ONNX
/// forms that reach them (log_prob as a second output, constant targets checked at load), and a
/// model holding them saved, reloaded and exported again.
final class LossOpTests: XCTestCase {
  typealias Loss = ONNXNegativeLogLikelihoodLoss

  func apply(_ reduction: Loss.Reduction, ignore: Int? = nil, _ inputs: Tensor<Float>...) -> Tensor<Float> {
    var context = ForwardContext.inference
    return Loss(reduction: reduction, ignoreIndex: ignore).forward(inputs.map { Variable($0) }, context: &context).value
  }

  let scores = Tensor<Float>(shape: [2, 3], scalars: [-1, -2, -3, -0.5, -1.5, -2.5])
  let targets = Tensor<Float>(shape: [2], scalars: [2, 0])
  let weights = Tensor<Float>(shape: [3], scalars: [0.2, 0.3, 0.5])

  func testReductionsAndWeights() {
    XCTAssertEqual(apply(.none, scores, targets).scalars, [3, 0.5])
    XCTAssertEqual(apply(.none, scores, targets).shape, [2])
    XCTAssertEqual(apply(.sum, scores, targets).scalars, [3.5])
    XCTAssertEqual(apply(.mean, scores, targets).shape, [])
    XCTAssertEqual(apply(.mean, scores, targets).scalars, [1.75])
    XCTAssertEqual(apply(.none, scores, targets, weights).scalars[0], 1.5, accuracy: 1e-6)
    XCTAssertEqual(apply(.none, scores, targets, weights).scalars[1], 0.1, accuracy: 1e-6)
    XCTAssertEqual(apply(.sum, scores, targets, weights).scalars[0], 1.6, accuracy: 1e-6)
    // Weighted mean: 1.6 over the weights picked (0.5 + 0.2), not over the count 2.
    XCTAssertEqual(apply(.mean, scores, targets, weights).scalars[0], 1.6 / 0.7, accuracy: 1e-6)
  }

  func testIgnoreIndex() {
    XCTAssertEqual(apply(.none, ignore: 0, scores, targets).scalars, [3, 0])
    XCTAssertEqual(apply(.mean, ignore: 0, scores, targets).scalars, [3], "the ignored element is not counted")
    XCTAssertEqual(apply(.mean, ignore: 0, scores, targets, weights).scalars[0], 3, accuracy: 1e-6)
    // An ignore_index outside the classes (negative, as PyTorch's -100) ignores that value only.
    let withIgnored = Tensor<Float>(shape: [2], scalars: [-100, 1])
    XCTAssertEqual(apply(.none, ignore: -100, scores, withIgnored).scalars, [0, 1.5])
    XCTAssertEqual(apply(.mean, ignore: -100, scores, withIgnored).scalars, [1.5])
  }

  func testExtraAxesAndBadTargets() {
    // [N, C, d] = [1, 2, 2]: class 0 holds [1, 2], class 1 holds [3, 4].
    let x = Tensor<Float>(shape: [1, 2, 2], scalars: [1, 2, 3, 4])
    let y = apply(.none, x, Tensor(shape: [1, 2], scalars: [1, 0]))
    XCTAssertEqual(y.shape, [1, 2])
    XCTAssertEqual(y.scalars, [-3, -2])
    // A run-time target out of range or not an integer is NaN, not some other class's score.
    let bad = apply(.none, scores, Tensor(shape: [2], scalars: [3, 0.5]))
    XCTAssertTrue(bad.scalars.allSatisfy(\.isNaN), "\(bad.scalars)")
    XCTAssertTrue(apply(.mean, scores, Tensor(shape: [2], scalars: [0, -1])).scalars[0].isNaN)
  }

  // MARK: - Through the importer

  func model(
    _ op: String, _ attributes: [Onnx_AttributeProto] = [], target: [Int] = [2, 0], outputs: [String] = ["loss"],
    weight: Bool = false
  ) -> Onnx_ModelProto {
    let inputs = ["x", "t"] + (weight ? ["w"] : [])
    var initializers = [ONNXBuild.int64s("t", target)]
    if weight { initializers.append(ONNXBuild.tensor("w", [3], weights.scalars)) }
    return ONNXBuild.model(
      nodes: [ONNXBuild.node(op, inputs, outputs, name: "loss", attributes)], initializers: initializers,
      inputs: [ONNXBuild.value("x", [2, 3])], outputs: outputs)
  }

  func testImportedForms() throws {
    let nll = try ONNXImporter.load(
      data: ONNXBuild.data(model("NegativeLogLikelihoodLoss", [Attr.string("reduction", "sum")], weight: true)))
    XCTAssertEqual(nll.run([scores])[0].scalars[0], 1.6, accuracy: 1e-6)
    let sce = try ONNXImporter.load(
      data: ONNXBuild.data(model("SoftmaxCrossEntropyLoss", outputs: ["loss", "log_prob"])))
    let out = sce.run([scores])
    XCTAssertEqual(out.count, 2)
    // Each row of log_prob is log-softmax: its exponentials sum to 1, and its differences are the scores'.
    let logProb = out[1].scalars
    XCTAssertEqual(out[1].shape, [2, 3])
    XCTAssertEqual(logProb[0...2].map { Foundation.exp($0) }.reduce(0, +), 1, accuracy: 1e-5)
    XCTAssertEqual(logProb[1] - logProb[0], -1, accuracy: 1e-5)
    XCTAssertEqual(out[0].scalars[0], -(logProb[2] + logProb[3]) / 2, accuracy: 1e-5)
    let ignored = try ONNXImporter.load(
      data: ONNXBuild.data(
        model(
          "SoftmaxCrossEntropyLoss", [Attr.string("reduction", "none"), Attr.int("ignore_index", -1)], target: [-1, 0]))
    )
    let none = ignored.run([scores])[0]
    XCTAssertEqual(none.shape, [2])
    XCTAssertEqual(none.scalars[0], 0)
    XCTAssertEqual(none.scalars[1], -logProb[3], accuracy: 1e-5)
  }

  func testRefusals() {
    XCTAssertThrowsError(
      try ONNXImporter.load(data: ONNXBuild.data(model("NegativeLogLikelihoodLoss", target: [3, 0])))
    ) { XCTAssertTrue("\($0)".contains("not a class index"), "\($0)") }
    XCTAssertThrowsError(
      try ONNXImporter.load(
        data: ONNXBuild.data(model("NegativeLogLikelihoodLoss", [Attr.string("reduction", "avg")])))
    ) { XCTAssertTrue("\($0)".contains("reduction"), "\($0)") }
    XCTAssertThrowsError(
      try ONNXImporter.load(data: ONNXBuild.data(model("SoftmaxCrossEntropyLoss", target: [0, 1, 2])))
    ) { XCTAssertTrue("\($0)".contains("do not match"), "\($0)") }
  }

  func testSupportedListHoldsLossOps() {
    XCTAssertEqual(ONNXConverters.lossOps.subtracting(ONNXConverters.supported), [])
    XCTAssertEqual(ONNXConverters.lossOps.count, 2)
  }

  // MARK: - Model files and export

  /// SoftmaxCrossEntropyLoss with weights and ignore_index over an extra axis: saved as a Lathe
  /// file, reloaded, exported to ONNX and imported again, with the same values throughout. A
  /// Lathe model's first axis is the batch (checked with a batch of one), so the constant
  /// targets and the input are one sample's: `[1, d]` and `[1, C, d]`.
  func testSaveReloadAndExportAgain() throws {
    var t = ONNXBuild.int64s("t", [2, 1])
    t.dims = [1, 2]
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node(
          "SoftmaxCrossEntropyLoss", ["x", "t", "w"], ["y"], name: "sce",
          [Attr.string("reduction", "none"), Attr.int("ignore_index", 1)])
      ],
      initializers: [t, ONNXBuild.tensor("w", [3], weights.scalars)],
      inputs: [ONNXBuild.value("x", [1, 3, 2])], outputs: ["y"])
    let model = try ONNXImporter.load(data: ONNXBuild.data(m)).model()
    XCTAssertTrue(model.nodes.contains { $0.layer is Loss })
    let scores = Tensor<Float>(shape: [1, 3, 2], scalars: [-1, -2, -3, -0.5, -1.5, -2.5])
    let y = model.predict(scores)
    XCTAssertEqual(y.shape, [1, 2])
    XCTAssertGreaterThan(y.scalars[0], 0)
    XCTAssertEqual(y.scalars[1], 0, "target 1 is ignored")

    let url = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-loss-\(UUID()).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try ModelFile.save(model, to: url)
    let back = try ModelOpener.open(url)
    XCTAssertEqual(back.nodes.map(\.layer.spec), model.nodes.map(\.layer.spec))
    XCTAssertEqual(back.predict(scores).scalars, y.scalars)

    let proto = try ONNXExporter.proto(back)
    let ops = proto.graph.node.map(\.opType)
    XCTAssertTrue(Set(ops).isSuperset(of: ["LogSoftmax", "Cast", "NegativeLogLikelihoodLoss"]), "\(ops)")
    // The export writes a symbolic batch, which the one-sample targets cannot follow: fix it.
    let options = ONNXImportOptions(inputShapes: [proto.graph.input[0].name: [1, 3, 2]])
    let again = try ONNXImporter.load(data: ONNXExporter.data(back), options: options).model()
    XCTAssertEqual(again.predict(scores).scalars, y.scalars)
  }
}
