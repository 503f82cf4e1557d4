import LatheTensor
import XCTest

@testable import LatheCompress

/// What each compressed layer answers to the layer protocols: whether training may continue,
/// the weight it computes with, and that it refuses new tensors with an error, not a trap.
final class LayerProtocolTests: XCTestCase {
  let linearWeight: Tensor<Float> = {
    var g = SeededGenerator(seed: 3)
    // Half the weights zero, so the sparse encoding has something to skip.
    let w = Tensor<Float>.uniform([4, 64], low: -1, high: 1, generator: &g)
    return Tensor(shape: [4, 64], scalars: w.scalars.enumerated().map { $0.offset % 2 == 0 ? 0 : $0.element })
  }()
  let convWeight: Tensor<Float> = {
    var g = SeededGenerator(seed: 4)
    return .uniform([3, 2, 3, 3], low: -1, high: 1, generator: &g)
  }()

  var sparse: SparseLinear {
    SparseLinear(weights: EncodedWeights(linearWeight, codebook: nil, encoding: .csr), bias: nil)
  }
  var encodedConv: EncodedConv2d {
    EncodedConv2d(
      weights: EncodedWeights(convWeight, codebook: nil, encoding: .csr),
      template: Conv2d(weight: Parameter(convWeight), bias: nil))
  }
  var int8Linear: QuantizedLinear {
    QuantizedLinear(
      weights: QuantizedWeights(quantizing: linearWeight, granularity: .perChannel), bias: nil,
      input: .dynamic(symmetric: false), relu: false)
  }
  var int8Conv: QuantizedConv2d {
    QuantizedConv2d(
      weights: QuantizedWeights(quantizing: convWeight, granularity: .perChannel), bias: nil,
      input: .dynamic(symmetric: false), relu: false, inChannels: 2, kernelSize: [3, 3], stride: [1, 1],
      padding: [0, 0, 0, 0], dilation: [1, 1])
  }
  var weightOnly: WeightOnlyLinear {
    WeightOnlyLinear(weights: GroupQuantizedWeights(quantizing: linearWeight, bits: 4, groupSize: 32), bias: nil)
  }

  func testOnlyInt8LayersEndTraining() {
    XCTAssertFalse(int8Linear.allowsTraining)
    XCTAssertFalse(int8Conv.allowsTraining)
    XCTAssertTrue(weightOnly.allowsTraining)
    XCTAssertTrue(sparse.allowsTraining)
    XCTAssertTrue(encodedConv.allowsTraining)
    XCTAssertTrue(Linear(weight: Parameter(linearWeight), bias: nil).allowsTraining)
  }

  func testEffectiveWeightIsTheDenseWeightEachLayerComputesWith() throws {
    XCTAssertEqual(try XCTUnwrap(sparse.effectiveWeight), linearWeight)
    XCTAssertEqual(try XCTUnwrap(encodedConv.effectiveWeight), convWeight)
    let int8 = int8Linear
    XCTAssertEqual(int8.effectiveWeight, int8.weights.dequantized(shape: [4, 64]))
    let conv = int8Conv
    XCTAssertEqual(conv.effectiveWeight?.shape, [3, 2, 3, 3])
    XCTAssertEqual(conv.effectiveWeight, conv.weights.dequantized(shape: [3, 2, 3, 3]))
    let wq = weightOnly
    let w = try XCTUnwrap(wq.effectiveWeight)
    XCTAssertEqual(w, wq.weights.dequantized())
    XCTAssertEqual(w.shape, [4, 64])
    // 4-bit levels round, but stay within half a step of the fp32 weight.
    for (a, b) in zip(w.scalars, linearWeight.scalars) { XCTAssertEqual(a, b, accuracy: 1.0 / 7) }
    XCTAssertNil(Function(.relu).effectiveWeight)
  }

  func testCompressedLayersRefuseNewTensorsWithATypedError() {
    let layers: [Layer] = [sparse, encodedConv, int8Linear, int8Conv, weightOnly]
    for layer in layers {
      XCTAssertThrowsError(try layer.restore(from: [:], node: "fc")) { error in
        XCTAssertEqual(error as? ModelError, .notRestorable(node: "fc", op: layer.op), "\(layer.op)")
        XCTAssertTrue("\(error)".contains("open its model file again"), "\(error)")
      }
    }
  }

  /// loadState on a deployed model used to reach a preconditionFailure in SparseLinear.restore.
  func testLoadingStateIntoADeployedModelFailsWithAnError() throws {
    let model = try Model(
      architecture: "test", inputShape: [64], classCount: 4,
      sequence: [("fc", sparse), ("softmax", Function(.softmax))])
    XCTAssertThrowsError(try model.loadState(["fc.weight": linearWeight])) { error in
      XCTAssertEqual(error as? ModelError, .notRestorable(node: "fc", op: "sparse_linear"))
    }
  }
}
