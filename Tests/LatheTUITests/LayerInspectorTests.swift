import LatheCompress
import LatheTensor
import XCTest

@testable import LatheTUI

/// The layer detail screen's numbers, for layers in each storage form.
final class LayerInspectorTests: XCTestCase {
  let weight: Tensor<Float> = {
    var g = SeededGenerator(seed: 7)
    return .uniform([8, 64], low: -1, high: 1, generator: &g)
  }()

  func model(_ layer: Layer) throws -> Model {
    try Model(
      architecture: "test", inputShape: [64], classCount: 8,
      sequence: [("fc1", layer), ("softmax", Function(.softmax))])
  }

  /// A weight-only layer used to have no detail at all (the inspector did not know its type).
  func testWeightOnlyLayerShowsItsDequantizedWeights() throws {
    let before = try model(Linear(weight: Parameter(weight), bias: nil))
    let quantized = WeightOnlyLinear(
      weights: GroupQuantizedWeights(quantizing: weight, bits: 4, groupSize: 32), bias: nil)
    let after = try model(quantized)
    let detail = try XCTUnwrap(LayerInspector.detail(layer: "fc1", after: after, before: before))
    XCTAssertEqual(detail.histogramAfter.reduce(0, +), weight.count)
    XCTAssertEqual(detail.histogramBefore.reduce(0, +), weight.count)
    // int4 has 15 levels per group, so the after-histogram is far spikier than the fp32 one.
    XCTAssertLessThan(detail.histogramAfter.filter { $0 > 0 }.count, detail.histogramBefore.filter { $0 > 0 }.count)
    XCTAssertEqual(detail.channelMin.count, 8)
    XCTAssertEqual(detail.channelMax.count, 8)
    let dequantized = quantized.weights.dequantized().scalars
    XCTAssertEqual(detail.channelMax[0], Double(dequantized[0..<64].max()!))
    let error = try XCTUnwrap(detail.quantizationError)
    XCTAssertGreaterThan(error.meanSquared, 0)
    // Half a step of max|w| / 7 at most, per group.
    XCTAssertLessThanOrEqual(error.maxAbsolute, 1.0 / 14 + 1e-6)
    XCTAssertGreaterThan(error.sqnrDecibels, 10)
  }

  /// Original, pruned (fp32, sparse storage), then a step that leaves the layer alone: "before"
  /// is the model the pruning started from, named so, and a pruned fp32 layer has no
  /// quantization error (its change is the zeros).
  func testBeforeIsTheStepThatLastChangedTheLayer() throws {
    let original = try model(Linear(weight: Parameter(weight), bias: nil))
    let zeroed = Tensor<Float>(
      shape: weight.shape, scalars: weight.scalars.enumerated().map { $0.offset % 4 == 0 ? $0.element : 0 })
    let pruned = try model(SparseLinear(weights: EncodedWeights(zeroed, codebook: nil, encoding: .csr), bias: nil))
    let untouched = try model(SparseLinear(weights: EncodedWeights(zeroed, codebook: nil, encoding: .csr), bias: nil))
    let detail = try XCTUnwrap(
      LayerInspector.detail(
        layer: "fc1", snapshots: [("original", original), ("prune", pruned), ("int8-other-layers", untouched)]))
    XCTAssertEqual(detail.changedBy, "prune")
    XCTAssertEqual(
      detail.histogramBefore, LayerInspector.detail(layer: "fc1", after: original, before: nil)?.histogramAfter)
    XCTAssertGreaterThan(detail.histogramAfter.max() ?? 0, weight.count / 2, "the zeros' spike")
    XCTAssertNil(detail.quantizationError, "pruned fp32 weights are not quantized")

    let unchanged = try XCTUnwrap(
      LayerInspector.detail(layer: "fc1", snapshots: [("original", original), ("x", original)]))
    XCTAssertNil(unchanged.changedBy)
    XCTAssertEqual(unchanged.histogramBefore, unchanged.histogramAfter)
  }

  func testLayerWithoutWeightsHasNoDetail() throws {
    let m = try model(Linear(weight: Parameter(weight), bias: nil))
    XCTAssertNil(LayerInspector.detail(layer: "softmax", after: m, before: nil))
    XCTAssertNil(LayerInspector.detail(layer: "missing", after: m, before: nil))
    XCTAssertNotNil(LayerInspector.detail(layer: "fc1", after: m, before: nil))
  }
}
