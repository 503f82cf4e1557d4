import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// Conv then inference BatchNormalization imports as one convolution with the same outputs as
/// the two run one after the other (computed here with the engine's own Conv2d and BatchNorm);
/// a convolution whose output something else also reads keeps its BatchNormalization.
final class BatchNormFoldTests: XCTestCase {
  private let weights: [Float] = (0..<24).map { Float($0 % 7) * 0.25 - 0.7 }
  private let bias: [Float] = [0.1, -0.2, 0.3]
  private let scale: [Float] = [1.5, -0.5, 2]
  private let shift: [Float] = [0.2, 0.1, -0.3]
  private let mean: [Float] = [0.3, -0.1, 0.05]
  private let variance: [Float] = [0.5, 2, 0.8]

  private func graph(alsoReadConv: Bool) throws -> ONNXGraph {
    var nodes = [
      ONNXBuild.node("Conv", ["x", "w", "b"], ["c"], [Attr.ints("pads", [1, 1, 1, 1])]),
      ONNXBuild.node("BatchNormalization", ["c", "s", "sh", "m", "v"], ["y"], [Attr.float("epsilon", 1e-3)]),
    ]
    if alsoReadConv { nodes.append(ONNXBuild.node("Add", ["y", "c"], ["z"])) }
    let m = ONNXBuild.model(
      nodes: nodes,
      initializers: [
        ONNXBuild.tensor("w", [3, 2, 2, 2], weights), ONNXBuild.tensor("b", [3], bias),
        ONNXBuild.tensor("s", [3], scale), ONNXBuild.tensor("sh", [3], shift), ONNXBuild.tensor("m", [3], mean),
        ONNXBuild.tensor("v", [3], variance),
      ], inputs: [ONNXBuild.value("x", [nil, 2, 4, 4])], outputs: [alsoReadConv ? "z" : "y"])
    return try ONNXImporter.load(data: ONNXBuild.data(m))
  }

  /// The two layers run one after the other, without the importer.
  private func reference(_ x: Tensor<Float>) -> (conv: Tensor<Float>, normalized: Tensor<Float>) {
    let conv = Conv2d(
      weight: Parameter(Tensor(shape: [3, 2, 2, 2], scalars: weights)),
      bias: Parameter(Tensor(shape: [3], scalars: bias)),
      padding: [1, 1, 1, 1])
    let bn = BatchNorm(channels: 3, epsilon: 1e-3)
    bn.gamma.value = Tensor(shape: [3], scalars: scale)
    bn.beta.value = Tensor(shape: [3], scalars: shift)
    bn.runningMean.value = Tensor(shape: [3], scalars: mean)
    bn.runningVariance.value = Tensor(shape: [3], scalars: variance)
    return GradientRecording.disabled {
      var context = ForwardContext.inference
      let c = conv.forward([Variable(x)], context: &context)
      return (c.value, bn.forward([c], context: &context).value)
    }
  }

  func testConvThenBatchNormIsOneConvolution() throws {
    let graph = try graph(alsoReadConv: false)
    XCTAssertEqual(graph.nodes.map(\.layer.op).filter { $0 != "onnx.Constant" }, ["conv2d"])
    var g = SeededGenerator(seed: 4)
    let x = Tensor<Float>.uniform([2, 2, 4, 4], low: -1, high: 1, generator: &g)
    XCTAssertLessThan(graph.run([x])[0].maxAbsDifference(reference(x).normalized), 1e-5)
    let folded = try XCTUnwrap(graph.nodes.compactMap { $0.layer as? Conv2d }.first)
    XCTAssertTrue(folded.weight.isTrainable)
  }

  func testConvReadTwiceKeepsItsBatchNorm() throws {
    let graph = try graph(alsoReadConv: true)
    XCTAssertTrue(graph.nodes.contains { $0.layer is BatchNorm })
    var g = SeededGenerator(seed: 5)
    let x = Tensor<Float>.uniform([1, 2, 4, 4], low: -1, high: 1, generator: &g)
    let (conv, normalized) = reference(x)
    XCTAssertLessThan(graph.run([x])[0].maxAbsDifference(normalized + conv), 1e-5)
  }
}
