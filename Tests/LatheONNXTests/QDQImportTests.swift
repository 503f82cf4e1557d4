import Foundation
import LatheCompress
import LatheTensor
import XCTest

@testable import LatheONNX

/// QDQ graphs (QuantizeLinear → DequantizeLinear on the activation, DequantizeLinear of 8-bit
/// weight levels, then Gemm or Conv) open as the int8 layers they describe, not as fp32 layers
/// between rounding nodes; patterns the int8 layers cannot run exactly stay as written.
final class QDQImportTests: XCTestCase {
  /// Conv → ReLU → flatten → Linear, each quantized with static activations.
  func int8Model() throws -> Model {
    var g = SeededGenerator(seed: 3)
    let conv = Conv2d(inChannels: 1, outChannels: 3, kernel: 3, padding: 1, generator: &g)
    let fc = Linear(inputs: 3 * 6 * 6, outputs: 4, generator: &g)
    let model = try Model(
      architecture: "qdq", inputShape: [1, 6, 6], classCount: 4,
      sequence: [
        ("conv", conv), ("relu", Function(.relu)), ("flatten", Function(.flatten(startAxis: 1))), ("fc", fc),
      ])
    model.replaceLayer(
      named: "conv",
      with: QuantizedConv2d(
        weights: QuantizedWeights(quantizing: conv.weight.value, granularity: .perChannel), bias: conv.bias?.value,
        input: .fixed(.unsigned(low: -1, high: 1, symmetric: false)), relu: false, inChannels: 1, kernelSize: [3, 3],
        stride: conv.stride, padding: conv.padding, dilation: conv.dilation))
    model.replaceLayer(
      named: "fc",
      with: QuantizedLinear(
        weights: QuantizedWeights(quantizing: fc.weight.value, granularity: .perChannel), bias: fc.bias?.value,
        input: .fixed(.unsigned(low: 0, high: 2, symmetric: false)), relu: false))
    return model
  }

  func input(_ batch: Int) -> Tensor<Float> {
    var g = SeededGenerator(seed: 9)
    return .uniform([batch, 1, 6, 6], low: -1, high: 1, generator: &g)
  }

  func testAnExportedInt8ModelOpensAsInt8Layers() throws {
    let model = try int8Model()
    let back = try ONNXImporter.load(data: ONNXExporter.data(model), path: "int8.onnx").model()
    XCTAssertFalse(
      back.nodes.contains { $0.layer is ONNXQuantization }, "\(back.nodes.map { "\($0.name) \($0.layer.op)" })")
    let conv = try XCTUnwrap(back.nodes.first { $0.name == "conv" }?.layer as? QuantizedConv2d)
    let fc = try XCTUnwrap(back.nodes.first { $0.name == "fc" }?.layer as? QuantizedLinear)
    let original = try XCTUnwrap(model.nodes.first { $0.name == "fc" }?.layer as? QuantizedLinear)
    XCTAssertEqual(fc.weights.values, original.weights.values)
    XCTAssertEqual(fc.weights.scales, original.weights.scales)
    XCTAssertEqual(fc.input, original.input)
    // The exported Relu after the convolution is folded back into it, as Lathe's int8 layers hold it.
    XCTAssertTrue(conv.relu)
    XCTAssertFalse(back.nodes.contains { ($0.layer as? Function)?.kind == .relu })
    // The bias went out as int32 at scale input·weight: the outputs agree to that rounding,
    // and the task's answer (the top class) is the same for every input.
    let x = input(64)
    let (exported, native) = (back.predict(x), model.predict(x))
    XCTAssertLessThan(exported.maxAbsDifference(native), 1e-4)
    XCTAssertEqual(exported.argmaxRows(), native.argmaxRows())
  }

  /// A hand-written QDQ Gemm with int8 activations (zero point -3) and int8 per-channel weights.
  func qdqGemm(
    weightLevels: [Int] = [5, -7, 127, 0, -127, 33], quantizeScale: Float = 0.05, dequantizeScale: Float = 0.05
  ) -> Data {
    var transB = Onnx_AttributeProto()
    transB.name = "transB"
    transB.type = .int
    transB.i = 1
    var axis = Onnx_AttributeProto()
    axis.name = "axis"
    axis.type = .int
    axis.i = 0
    let nodes = [
      ONNXBuild.node("QuantizeLinear", ["x", "sq", "z"], ["xq"], name: "q"),
      ONNXBuild.node("DequantizeLinear", ["xq", "sd", "z"], ["xd"], name: "dq"),
      ONNXBuild.node("DequantizeLinear", ["w_quantized", "sw", "zw"], ["w"], name: "dqw", [axis]),
      ONNXBuild.node("Gemm", ["xd", "w", "b"], ["y"], name: "gemm", [transB]),
    ]
    let initializers = [
      ONNXBuild.tensor("sq", [], [quantizeScale]), ONNXBuild.tensor("sd", [], [dequantizeScale]),
      ONNXBuild.integers("z", [], [-3], .int8), ONNXBuild.integers("w_quantized", [2, 3], weightLevels, .int8),
      ONNXBuild.tensor("sw", [2], [0.01, 0.02]), ONNXBuild.integers("zw", [2], [0, 0], .int8),
      ONNXBuild.tensor("b", [2], [0.5, -0.25]),
    ]
    return ONNXBuild.data(
      ONNXBuild.model(
        nodes: nodes, initializers: initializers, inputs: [ONNXBuild.value("x", [nil, 3])], outputs: ["y"], opset: 13
      ))
  }

  /// What the QDQ Gemm computes, by ONNX's definitions: x rounded half to even to int8 around -3.
  func expected(_ x: Tensor<Float>, levels: [Int], quantizeScale: Float = 0.05, dequantizeScale: Float = 0.05)
    -> [Float]
  {
    let rows = x.shape[0]
    let scales: [Float] = [0.01, 0.02]
    let bias: [Float] = [0.5, -0.25]
    var y: [Float] = []
    for r in 0..<rows {
      let xd = (0..<3).map { c -> Float in
        let q = min(127, max(-128, (x.scalars[r * 3 + c] / quantizeScale).rounded(.toNearestOrEven) - 3))
        return (q + 3) * dequantizeScale
      }
      for o in 0..<2 {
        y.append((0..<3).reduce(bias[o]) { $0 + xd[$1] * Float(levels[o * 3 + $1]) * scales[o] })
      }
    }
    return y
  }

  func testInt8ActivationsAndWeightsFromAnotherToolAreFused() throws {
    let graph = try ONNXImporter.load(data: qdqGemm(), path: "gemm.onnx")
    let layers = graph.nodes.map(\.layer)
    let fused = try XCTUnwrap(layers.first as? QuantizedLinear, "\(layers.map(\.op))")
    XCTAssertEqual(layers.count, 1)
    // int8 activations around -3 are uint8 ones around 125: the same values.
    XCTAssertEqual(fused.input, .fixed(QuantizationParameters(scale: 0.05, zeroPoint: 125)))
    XCTAssertEqual(fused.weights.values, [5, -7, 127, 0, -127, 33])
    XCTAssertEqual(graph.nodes[0].name, "gemm", "w_quantized is no PyTorch weight name: the node keeps its own")
    let x = Tensor<Float>(shape: [3, 3], scalars: [0.1, -0.42, 0.33, 2, -9, 0.026, 0, 0.075, -0.125])
    let y = try graph.run([x])[0]
    for (got, want) in zip(y.scalars, expected(x, levels: [5, -7, 127, 0, -127, 33])) {
      XCTAssertEqual(got, want, accuracy: 1e-4)
    }
  }

  func testPatternsTheInt8LayersCannotRunStayAsWritten() throws {
    let x = Tensor<Float>(shape: [2, 3], scalars: [0.1, -0.42, 0.33, 2, -9, 0.026])
    // A level of -128 is outside the int8 kernels' symmetric range.
    let wide = [5, -7, -128, 0, -127, 33]
    // A DequantizeLinear whose scale is not its QuantizeLinear's is not a plain rounding.
    for (data, levels, scales) in [
      (qdqGemm(weightLevels: wide), wide, (Float(0.05), Float(0.05))),
      (qdqGemm(dequantizeScale: 0.1), [5, -7, 127, 0, -127, 33], (Float(0.05), Float(0.1))),
    ] {
      let graph = try ONNXImporter.load(data: data, path: "gemm.onnx")
      XCTAssertFalse(graph.nodes.contains { $0.layer is QuantizedLinear }, "\(graph.nodes.map(\.layer.op))")
      let y = try graph.run([x])[0]
      let want = expected(x, levels: levels, quantizeScale: scales.0, dequantizeScale: scales.1)
      for (got, want) in zip(y.scalars, want) { XCTAssertEqual(got, want, accuracy: 1e-4) }
    }
  }
}

extension QDQImportTests {
  /// A DequantizeLinear by a scale computed at run time must be given one scale.
  func testARunTimeScaleOfSeveralValuesIsRefusedNamingTheNode() throws {
    let nodes = [
      ONNXBuild.node("Relu", ["s"], ["scale"], name: "make_scale"),
      ONNXBuild.node("DequantizeLinear", ["x", "scale"], ["y"], name: "dq"),
    ]
    let data = ONNXBuild.data(
      ONNXBuild.model(
        nodes: nodes, initializers: [],
        inputs: [ONNXBuild.value("x", [2, 3]), ONNXBuild.value("s", [3])], outputs: ["y"], opset: 13))
    XCTAssertThrowsError(try ONNXImporter.load(data: data, path: "scales.onnx")) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains("scales.onnx") && text.contains("\"dq\""), text)
      XCTAssertTrue(text.contains("must be one value, not [3]"), text)
    }
  }

  func testDynamicInt8ExportOpensAsDynamicInt8Layers() throws {
    let model = try int8Model()
    let fc = try XCTUnwrap(model.nodes.first { $0.name == "fc" }?.layer as? QuantizedLinear)
    model.replaceLayer(
      named: "fc",
      with: QuantizedLinear(weights: fc.weights, bias: fc.bias, input: .dynamic(symmetric: false), relu: false))
    let back = try ONNXImporter.load(data: ONNXExporter.data(model), path: "dynamic.onnx").model()
    let imported = try XCTUnwrap(back.nodes.first { $0.name == "fc" }?.layer as? QuantizedLinear)
    XCTAssertEqual(imported.input, .dynamic(symmetric: false))
    XCTAssertLessThan(back.predict(input(8)).maxAbsDifference(model.predict(input(8))), 1e-4)
  }
}
