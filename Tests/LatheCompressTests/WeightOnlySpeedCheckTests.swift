import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheCompress

/// weight-only's speed check: a layer whose integer kernel is slower than fp32 here keeps its
/// narrow weights in the file but computes in fp32, unless pinned; reported either way.
final class WeightOnlySpeedCheckTests: XCTestCase {
  func testASlowerIntegerKernelComputesInFloatButStoresNarrowWeights() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data)
    let config = try WeightOnlyConfig(bits: .all(4), pinKernel: ["fc2"])
    // The integer kernel "takes" twice the float time on every layer.
    let step = context(data)
    let quantized = try WeightOnly(config, timer: { _, _, _ in (2, 1) }).applied(to: model, context: step)
    let fc1 = try XCTUnwrap(quantized.nodes.first { $0.name == "fc1" }?.layer as? WeightOnlyLinear)
    let fc2 = try XCTUnwrap(quantized.nodes.first { $0.name == "fc2" }?.layer as? WeightOnlyLinear)
    XCTAssertTrue(fc1.computesInFloat)
    XCTAssertFalse(fc2.computesInFloat, "pinned")
    XCTAssertTrue(fc1.kernelName.contains("as fp32"), fc1.kernelName)
    let slower = try XCTUnwrap(step.findings.slowerInt8Layers)
    XCTAssertEqual(slower.map(\.name), ["fc1", "fc2"])
    XCTAssertEqual(slower.map(\.pinned), [false, true])
    XCTAssertEqual(step.findings.metricsExtra["kept_float_layers"], 1)
    // fp32 compute of the same stored weights: the product of the dequantized weights.
    let x = data.test.inputs.reshaped([data.test.count, 64])
    let expected = Linear(weight: Parameter(fc1.weights.dequantized()), bias: fc1.bias.map { Parameter($0) })
    var forward = ForwardContext.inference
    let got = fc1.forward([Variable(x)], context: &forward).value
    XCTAssertEqual(got.scalars, expected.forward([Variable(x)], context: &forward).value.scalars)
    // The file keeps int4 weights and the choice; the reloaded model computes the same.
    let url = try temporaryDirectory(self).appendingPathComponent("wq.safetensors")
    let loaded = try deployedRoundTrip(quantized, to: url)
    XCTAssertEqual((loaded.nodes.first { $0.name == "fc1" }?.layer as? WeightOnlyLinear)?.computesInFloat, true)
    XCTAssertEqual(try SafetensorsFile.read(from: url)["fc1.weight"]?.dtype, .uint8)
    XCTAssertEqual(loaded.predict(data.test.inputs), quantized.predict(data.test.inputs))
  }

  func testAFasterIntegerKernelIsKeptAndNothingIsReported() throws {
    let data = blobSplit()
    let step = context(data)
    let quantized = try WeightOnly(try WeightOnlyConfig(bits: .all(8)), timer: { _, _, _ in (1, 2) }).applied(
      to: trainedDigitsMLP(data, epochs: 1), context: step)
    XCTAssertFalse(quantized.nodes.contains { ($0.layer as? WeightOnlyLinear)?.computesInFloat == true })
    XCTAssertEqual(step.findings.slowerInt8Layers, [])
    XCTAssertEqual(step.findings.metricsExtra["slower_layers"], 0)
  }

  func testAPinThatNamesNoQuantizedLayerIsRefused() throws {
    let data = blobSplit()
    XCTAssertThrowsError(
      try WeightOnly(try WeightOnlyConfig(pinKernel: ["fc9"])).applied(
        to: trainedDigitsMLP(data, epochs: 1), context: context(data))
    ) { XCTAssertTrue("\($0)".contains("pin_kernel") && "\($0)".contains("fc9"), "\($0)") }
  }
}
