import CKernels
import Foundation
import LatheIO
import LatheTensor
import LatheTestSupport
import XCTest

@testable import LatheCompress

/// Post-training int8 of depthwise convolutions, and the speed check that keeps a layer float
/// where its int8 form is slower.
final class QuantizeDepthwiseTests: XCTestCase {
  /// A MobileNet-shaped block: 1x1 expansion, ReLU, depthwise 3x3 (stride 1, padding 1), a
  /// residual add of the expansion's output, a depthwise 5x5 at stride 2, then a head.
  /// 5 channels (no multiple of 8 or 16), 11x11 images.
  static func blockModel(seed: UInt64 = 3) throws -> Model {
    var g = SeededGenerator(seed: seed)
    let expand = Conv2d(inChannels: 3, outChannels: 5, kernel: 1, generator: &g)
    let dw3 = Conv2d(inChannels: 5, outChannels: 5, kernel: 3, padding: 1, groups: 5, generator: &g)
    let dw5 = Conv2d(inChannels: 5, outChannels: 5, kernel: 5, stride: 2, padding: 2, groups: 5, generator: &g)
    for conv in [expand, dw3, dw5] {
      conv.bias!.value = .uniform(conv.bias!.value.shape, low: -0.3, high: 0.3, generator: &g)
    }
    let head = Linear(inputs: 5, outputs: 3, generator: &g)
    return try Model(
      architecture: "block", inputShape: [3, 11, 11], classCount: 3,
      nodes: [
        Node("expand", expand, inputs: ["input"]),
        Node("relu1", Function(.relu), inputs: ["expand"]),
        Node("dw3", dw3, inputs: ["relu1"]),
        Node("residual", Function(.add), inputs: ["dw3", "relu1"]),
        Node("dw5", dw5, inputs: ["residual"]),
        Node("pool", Function(.globalAvgPool), inputs: ["dw5"]),
        Node("flat", Function(.flatten(startAxis: 1)), inputs: ["pool"]),
        Node("fc", head, inputs: ["flat"]),
      ])
  }

  static func images(_ count: Int, seed: UInt64) -> Dataset {
    var g = SeededGenerator(seed: seed)
    return Dataset(
      name: "images", inputs: .uniform([count, 3, 11, 11], low: -1, high: 1, generator: &g),
      labels: (0..<count).map { $0 % 3 }, classCount: 3)
  }

  /// Every layer converts (the speed check off), the depthwise ones to depthwise int8 layers;
  /// the outputs stay close to float over a batch of 7, and the file round-trips.
  func testDepthwiseConvolutionsConvertAndAgreeWithFloat() throws {
    let model = try Self.blockModel()
    let data = DatasetSplit(train: Self.images(32, seed: 1), test: Self.images(7, seed: 2))
    let quantized = try Int8Quantize(Int8QuantizeConfig(speedCheck: false)).applied(to: model, context: context(data))
    for name in ["dw3", "dw5"] {
      let layer = quantized.nodes.first { $0.name == name }?.layer as? QuantizedConv2d
      XCTAssertEqual(layer?.groups, 5, name)
      XCTAssertTrue(layer?.kernelName.hasPrefix("int8 depthwise") == true, name)
    }
    XCTAssertEqual((quantized.nodes.first { $0.name == "expand" }?.layer as? QuantizedConv2d)?.relu, true)
    XCTAssertNil(quantized.nodes.first { $0.name == "relu1" }, "the ReLU folds into expand")
    XCTAssertEqual(quantized.nodes.first { $0.name == "residual" }?.inputs, ["dw3", "expand"])
    let float = model.predict(data.test.inputs).scalars
    let int8 = quantized.predict(data.test.inputs).scalars
    let scale = float.map(abs).max()!
    for (i, (a, b)) in zip(float, int8).enumerated() {
      XCTAssertEqual(a, b, accuracy: 0.05 * scale, "logit \(i)")
    }
    let loaded = try deployedRoundTrip(
      quantized, to: try temporaryDirectory(self).appendingPathComponent("dw.safetensors"))
    XCTAssertEqual((loaded.nodes.first { $0.name == "dw5" }?.layer as? QuantizedConv2d)?.groups, 5)
    XCTAssertEqual(loaded.predict(data.test.inputs), quantized.predict(data.test.inputs))
  }

  /// The int8 depthwise layer on a batch of 3 computes the float depthwise convolution of its
  /// quantized input with its dequantized weights, on every kernel path.
  func testDepthwiseLayerMatchesTheFloatConvolutionOfItsQuantizedValues() throws {
    var g = SeededGenerator(seed: 9)
    let x = Tensor<Float>.uniform([3, 7, 9, 10], low: -1, high: 2, generator: &g)
    let weight = Tensor<Float>.uniform([7, 1, 3, 3], low: -0.5, high: 0.5, generator: &g)
    let bias = Tensor<Float>.uniform([7], low: -0.2, high: 0.2, generator: &g)
    let weights = QuantizedWeights(quantizing: weight, granularity: .perChannel)
    let p = QuantizationParameters.unsigned(low: -1, high: 2, symmetric: false)
    for stride in [1, 2] {
      let layer = QuantizedConv2d(
        weights: weights, bias: bias, input: .fixed(p), relu: stride == 2, inChannels: 1, kernelSize: [3, 3],
        stride: [stride, stride], padding: [1, 0, 1, 2], dilation: [1, 1], groups: 7)
      var q = [UInt8](repeating: 0, count: x.count)
      var xq = [Float](repeating: 0, count: x.count)
      lk_quantize_u8(x.scalars, x.count, p.scale, p.zeroPoint, &q)
      lk_dequantize_u8(q, q.count, p.scale, p.zeroPoint, &xq)
      var reference = Variable(Tensor(shape: x.shape, scalars: xq)).conv2d(
        weight: Variable(weights.dequantized(shape: weight.shape)), bias: Variable(bias), stride: [stride, stride],
        padding: [1, 0, 1, 2], dilation: [1, 1], groups: 7)
      if stride == 2 { reference = reference.relu() }
      try forEachKernelPath { _, path in
        var context = ForwardContext.inference
        let y = layer.forward([Variable(x)], context: &context).value
        XCTAssertEqual(y.shape, reference.value.shape)
        XCTAssertEqual(try layer.outputShape(for: [x.shape]), y.shape)
        for i in 0..<y.count {
          assertClose(y.scalars[i], Double(reference.value.scalars[i]), 1e-4, "\(path) stride \(stride) output \(i)")
        }
      }
    }
  }

  /// The speed check with an injected timer: a layer whose int8 time is above its float time
  /// stays float and is reported; pinned, it is converted and reported as pinned; the others
  /// convert. The timer sees the float layer and real batch-1 inputs.
  func testLayersSlowerInInt8KeepTheirFloatLayerUnlessPinned() throws {
    let data = DatasetSplit(train: Self.images(16, seed: 4), test: Self.images(5, seed: 5))
    let timer: LayerTimer = { int8, float, inputs in
      XCTAssertEqual(inputs.first?.value.shape.first, 1, "batch 1")
      XCTAssertFalse(float is QuantizedConv2d || float is QuantizedLinear)
      // dw3 "runs" slower in int8; everything else faster.
      let slow = (int8 as? QuantizedConv2d).map { $0.groups == 5 && $0.kernelSize == [3, 3] } ?? false
      return slow ? (30, 20) : (10, 20)
    }
    for pinned in [false, true] {
      let config = Int8QuantizeConfig(pinInt8: pinned ? ["dw3"] : [])
      let step = Int8Quantize(config, timer: timer)
      let ctx = context(data)
      let quantized = try step.applied(to: try Self.blockModel(), context: ctx)
      let dw3 = quantized.nodes.first { $0.name == "dw3" }!.layer
      XCTAssertEqual(dw3 is QuantizedConv2d, pinned)
      XCTAssertEqual(dw3 is Conv2d, !pinned)
      for name in ["expand", "dw5", "fc"] {
        XCTAssertTrue(quantized.nodes.first { $0.name == name }?.layer is QuantizedLayerMarker, name)
      }
      XCTAssertEqual(
        ctx.findings.slowerInt8Layers,
        [SlowerInt8Layer(name: "dw3", int8Microseconds: 30, floatMicroseconds: 20, pinned: pinned)])
      let extra = ctx.findings.metricsExtra
      XCTAssertEqual(extra["slower_layers"], 1)
      XCTAssertEqual(extra["kept_float_layers"], pinned ? 0 : 1)
      XCTAssertEqual(extra["slower_dw3"], 1.5)
      // Still a working model either way.
      XCTAssertEqual(quantized.predict(data.test.inputs).shape, [5, 3])
    }
  }

  /// The real timer runs both layers and returns positive medians; a pin naming a layer that is
  /// not being quantized is refused before anything runs.
  func testRealTimerAndUnknownPin() throws {
    let model = try Self.blockModel()
    let node = model.nodes.first { $0.name == "dw3" }!
    let int8 = Int8Conversion.int8Layer(
      of: node.layer, input: .fixed(.unsigned(low: 0, high: 2, symmetric: false)), granularity: .perChannel,
      relu: false)!
    var g = SeededGenerator(seed: 1)
    let (a, b) = LayerTiming.interleaved(
      int8, node.layer, [Variable(.uniform([1, 5, 11, 11], low: 0, high: 2, generator: &g))])
    XCTAssertGreaterThan(a, 0)
    XCTAssertGreaterThan(b, 0)
    let data = DatasetSplit(train: Self.images(8, seed: 4), test: Self.images(2, seed: 5))
    XCTAssertThrowsError(
      try technique("quantize", [("layers", .list([.string("dw5")])), ("pin_int8", .list([.string("dw3")]))])
        .applied(to: model, context: context(data))
    ) { error in
      XCTAssertTrue("\(error)".contains("pin_int8") && "\(error)".contains("dw3"), "\(error)")
    }
  }
}

/// The two int8 layer types, for "was this node converted".
private protocol QuantizedLayerMarker {}
extension QuantizedConv2d: QuantizedLayerMarker {}
extension QuantizedLinear: QuantizedLayerMarker {}
