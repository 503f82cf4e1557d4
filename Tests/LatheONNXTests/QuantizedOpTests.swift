import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

extension ONNXBuild {
  /// An integer initializer of `type` (uint8, int8, int32...), in int32_data as ONNX stores them.
  static func integers(
    _ name: String, _ shape: [Int], _ values: [Int], _ type: Onnx_TensorProto.DataType
  ) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = shape.map { Int64($0) }
    t.dataType = Int32(type.rawValue)
    t.int32Data = values.map { Int32($0) }
    return t
  }
}

/// QLinearMatMul, QLinearConv, MatMulInteger, ConvInteger and DynamicQuantizeLinear through the
/// importer, with expected values worked out by hand below each graph: requantization rounds
/// halves to even and saturates to y's type. These operators output integers: they have no
/// gradient to check (DynamicQuantizeLinear's is zero, asserted below).
final class QuantizedOpTests: XCTestCase {
  /// A graph of one node reading graph input `x` (fp32 values that are integers) and initializers.
  func run(
    _ op: String, _ inputs: [String], _ initializers: [Onnx_TensorProto], x: Tensor<Float>,
    outputs: [String] = ["y"], _ attributes: [Onnx_AttributeProto] = []
  ) throws -> [Tensor<Float>] {
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node(op, inputs, outputs, name: "q", attributes)], initializers: initializers,
      inputs: [ONNXBuild.value("x", x.shape)], outputs: outputs, opset: 21)
    return try ONNXImporter.load(data: ONNXBuild.data(m)).run([x])
  }

  /// QLinearMatMul's operands but y's zero point: a_scale 0.5, a_zp 10, b int8 [[1, -2], [3, 4]].
  func matmulInitializers(yZero: Onnx_TensorProto) -> [Onnx_TensorProto] {
    [
      ONNXBuild.tensor("sa", [], [0.5]), ONNXBuild.integers("za", [], [10], .uint8),
      ONNXBuild.integers("b", [2, 2], [1, -2, 3, 4], .int8), ONNXBuild.tensor("sb", [], [1]),
      ONNXBuild.integers("zb", [], [0], .int8), ONNXBuild.tensor("sy", [], [1]), yZero,
    ]
  }

  func testQLinearMatMulRoundsHalvesToEvenAndSaturates() throws {
    let inputs = ["x", "sa", "za", "b", "sb", "zb", "sy", "zy"]
    // a - 10 = [[3, 0], [1, 0], [0, 245]]; times b: [[3, -6], [1, -2], [735, 980]]; times 0.5:
    // [[1.5, -3], [0.5, -1], [367.5, 490]].
    let a = Tensor<Float>(shape: [3, 2], scalars: [13, 10, 11, 10, 10, 255])
    let unsigned = try run(
      "QLinearMatMul", inputs, matmulInitializers(yZero: ONNXBuild.integers("zy", [], [100], .uint8)), x: a)
    // + 100: 101.5 → 102, 97, 100.5 → 100, 99, and the last row above 255.
    XCTAssertEqual(unsigned[0].scalars, [102, 97, 100, 99, 255, 255])
    let signed = try run(
      "QLinearMatMul", inputs, matmulInitializers(yZero: ONNXBuild.integers("zy", [], [-100], .int8)), x: a)
    // − 100: −98.5 → −98, −103, −99.5 → −100, −101, and the last row above 127.
    XCTAssertEqual(signed[0].scalars, [-98, -103, -100, -101, 127, 127])
  }

  func testQLinearMatMulKeepsTheWeightAsALinearsParameter() throws {
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node("QLinearMatMul", ["x", "sa", "za", "b", "sb", "zb", "sy", "zy"], ["y"], name: "q")],
      initializers: matmulInitializers(yZero: ONNXBuild.integers("zy", [], [0], .uint8)),
      inputs: [ONNXBuild.value("x", [nil, 2])], outputs: ["y"], opset: 21)
    let model = try ONNXImporter.load(data: ONNXBuild.data(m)).model()
    let linear = try XCTUnwrap(model.nodes.compactMap { $0.layer as? Linear }.first)
    XCTAssertEqual(linear.weight.value.scalars, [1, 3, -2, 4], "b transposed to [out, in]")
    // (a - 10) = [2, 2]; times b = [8, 4]; times 0.5 = [4, 2].
    XCTAssertEqual(model.predict(Tensor(shape: [1, 2], scalars: [12, 12])).scalars, [4, 2])
  }

  func testMatMulIntegerAndConvInteger() throws {
    // [5, 6, 7] - 5 = [0, 1, 2]; [130, 128, 131] - 128 = [2, 0, 3]; product 6.
    let product = try run(
      "MatMulInteger", ["x", "b", "za", "zb"],
      [
        ONNXBuild.integers("b", [3, 1], [130, 128, 131], .uint8), ONNXBuild.integers("za", [], [5], .uint8),
        ONNXBuild.integers("zb", [], [128], .uint8),
      ], x: Tensor(shape: [1, 3], scalars: [5, 6, 7]))
    XCTAssertEqual(product[0].scalars, [6])
    // [[3, 4], [5, 6]] - 2 = [[1, 2], [3, 4]] under the kernel [[2, 0], [0, -1]]: 2 - 4 = -2.
    let conv = try run(
      "ConvInteger", ["x", "w", "zx"],
      [ONNXBuild.integers("w", [1, 1, 2, 2], [2, 0, 0, -1], .int8), ONNXBuild.integers("zx", [], [2], .uint8)],
      x: Tensor(shape: [1, 1, 2, 2], scalars: [3, 4, 5, 6]))
    XCTAssertEqual(conv[0].shape, [1, 1, 1, 1])
    XCTAssertEqual(conv[0].scalars, [-2])
  }

  func testQLinearConvWithPerChannelScalesAndBias() throws {
    // x - 10 = [10, 20] (scale 0.5); kernels 3 and −1 (scales 1 and 2), biases 5 and 1:
    // [35, 65] and [-9, -19]; times 0.5·1/2 = 0.25 and 0.5·2/2 = 0.5: [8.75, 16.25] → [9, 16],
    // [−4.5, −9.5] → [−4, −10] (halves to even).
    let y = try run(
      "QLinearConv", ["x", "sx", "zx", "w", "sw", "zw", "sy", "zy", "bias"],
      [
        ONNXBuild.tensor("sx", [], [0.5]), ONNXBuild.integers("zx", [], [10], .uint8),
        ONNXBuild.integers("w", [2, 1, 1, 1], [3, -1], .int8), ONNXBuild.tensor("sw", [2], [1, 2]),
        ONNXBuild.integers("zw", [2], [0, 0], .int8), ONNXBuild.tensor("sy", [], [2]),
        ONNXBuild.integers("zy", [], [0], .int8), ONNXBuild.integers("bias", [2], [5, 1], .int32),
      ], x: Tensor(shape: [1, 1, 1, 2], scalars: [20, 30]))
    XCTAssertEqual(y[0].shape, [1, 2, 1, 2])
    XCTAssertEqual(y[0].scalars, [9, 16, -4, -10])
  }

  func testDynamicQuantizeLinear() throws {
    // Range [−1, 51]: scale 52/255, zero point rint(1/scale = 4.90) = 5; x/scale + 5 saturated:
    // 0 → 5, 2 → rint(9.81) + 5 = 15, −1 → −5 + 5 = 0, 51 → rint(250.1) + 5 = 255.
    let outputs = try run(
      "DynamicQuantizeLinear", ["x"], [], x: Tensor(shape: [4], scalars: [0, 2, -1, 51]), outputs: ["y", "s", "z"])
    XCTAssertEqual(outputs[0].scalars, [5, 15, 0, 255])
    XCTAssertEqual(outputs[1].scalars[0], 52 / 255, accuracy: 1e-7)
    XCTAssertEqual(outputs[2].scalars, [5])
    // All values equal zero: the range is empty and the scale 1/255.
    XCTAssertEqual(ONNXDynamicQuantization.parameters(of: [0, 0]).scale, 1 / 255)
    for output in ONNXDynamicQuantization.Output.allCases {
      let layer = ONNXDynamicQuantization(output)
      XCTAssertEqual(try ONNXDynamicQuantization(spec: layer.spec)?.spec, layer.spec)
      let x = Variable(Tensor(shape: [2], scalars: [1, -3]), requiresGrad: true)
      var context = ForwardContext(isTraining: true)
      layer.forward([x], context: &context).sum().backpropagate()
      XCTAssertEqual(x.grad?.scalars, [0, 0], "\(output) is chosen by rounding: no gradient")
    }
    XCTAssertThrowsError(
      try ONNXDynamicQuantization(
        spec: LayerSpec(op: "onnx.DynamicQuantizeLinear", attributes: ["output": .string("levels")])))
  }

  func testMalformedQuantizedNodesAreRefused() throws {
    let inputs = ["x", "sa", "za", "b", "sb", "zb", "sy", "zy"]
    var two = matmulInitializers(yZero: ONNXBuild.integers("zy", [], [0], .uint8))
    two[5] = ONNXBuild.tensor("sy", [2], [1, 1])
    XCTAssertThrowsError(try run("QLinearMatMul", inputs, two, x: Tensor(shape: [1, 2], scalars: [1, 2]))) {
      XCTAssertTrue("\($0)".contains("y_scale"), "\($0)")
    }
    // Three zero points for A's single row.
    XCTAssertThrowsError(
      try run(
        "MatMulInteger", ["x", "b", "za"],
        [ONNXBuild.integers("b", [3, 1], [1, 2, 3], .uint8), ONNXBuild.integers("za", [3], [1, 2, 3], .uint8)],
        x: Tensor(shape: [1, 3], scalars: [5, 6, 7]))
    ) { XCTAssertTrue("\($0)".contains("zero_point"), "\($0)") }
    // A weight computed at run time: QLinearConv needs its weights in the file.
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node("QLinearConv", ["x", "s", "z", "x", "s", "z", "s", "z"], ["y"], name: "q")],
      initializers: [ONNXBuild.tensor("s", [], [1]), ONNXBuild.integers("z", [], [0], .uint8)],
      inputs: [ONNXBuild.value("x", [1, 1, 2, 2])], outputs: ["y"], opset: 21)
    XCTAssertThrowsError(try ONNXImporter.load(data: ONNXBuild.data(m))) {
      XCTAssertTrue("\($0)".contains("computed at run time"), "\($0)")
    }
  }

  func testHalfPrecisionScalesRoundLikeFloat16() {
    // 1 + 2^-11 lies halfway between fp16's 1 and 1 + 2^-10: it rounds to the even one, 1.
    XCTAssertEqual(ONNXConverters.roundedToHalf(1 + 0x1p-11), 1)
    XCTAssertEqual(ONNXConverters.roundedToHalf(1 + 0x1p-10), 1 + 0x1p-10)
    XCTAssertEqual(ONNXConverters.roundedToHalf(0.1), 0.099975586, accuracy: 1e-9)
  }
}
