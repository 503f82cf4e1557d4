import Foundation
import LatheCompress
import LatheTensor
import XCTest

@testable import LatheONNX

/// Weight-only layers export as opset-21 blocked DequantizeLinear (INT4 packed two per byte, or
/// INT8) feeding MatMul, and import back as the same weight-only layers.
final class WeightOnlyExportTests: XCTestCase {
  /// An MLP whose layers have input widths that are not multiples of the group (a short last block).
  func model(bits: Int) throws -> Model {
    var g = SeededGenerator(seed: 21)
    let fc1 = Linear(inputs: 70, outputs: 5, generator: &g)
    let fc2 = Linear(inputs: 5, outputs: 3, generator: &g)
    let quantized = WeightOnlyLinear(
      weights: GroupQuantizedWeights(quantizing: fc1.weight.value, bits: bits, groupSize: 32), bias: fc1.bias?.value)
    return try Model(
      architecture: "wq-mlp", inputShape: [70], classCount: 3,
      sequence: [("fc1", quantized), ("relu", Function(.relu)), ("fc2", fc2)])
  }

  func testInt4ExportIsBlockedDequantizeLinearOfPackedNibbles() throws {
    let model = try model(bits: 4)
    let proto = try ONNXExporter.proto(model)
    XCTAssertEqual(proto.opsetImport.first?.version, 21)
    let dequantize = try XCTUnwrap(proto.graph.node.first { $0.opType == "DequantizeLinear" })
    let attributes = Dictionary(uniqueKeysWithValues: dequantize.attribute.map { ($0.name, $0.i) })
    XCTAssertEqual(attributes, ["axis": 0, "block_size": 32])
    // The kernel's int8 rounding of each input row, written out before the MatMul.
    XCTAssertEqual(
      proto.graph.node.map(\.opType),
      [
        "DequantizeLinear", "Abs", "ReduceMax", "Div", "Equal", "Where", "Reciprocal", "Mul", "Round", "Clip", "Mul",
        "MatMul", "Add", "Relu", "Gemm",
      ])
    let levels = try XCTUnwrap(proto.graph.initializer.first { $0.name == dequantize.input[0] })
    XCTAssertEqual(levels.dataType, Int32(Onnx_TensorProto.DataType.int4.rawValue))
    XCTAssertEqual(levels.dims, [70, 5])
    XCTAssertEqual(levels.rawData.count, 175)
    // Element 2i in the low nibble: the first two levels of the transposed [in, out] matrix are
    // w[0][0] and w[1][0] of the [out, in] original.
    let layer = try XCTUnwrap(model.nodes[0].layer as? WeightOnlyLinear)
    let values = layer.weights.values
    let first = levels.rawData[levels.rawData.startIndex]
    XCTAssertEqual(Int8(bitPattern: (first & 0x0F) << 4) >> 4, values[0])
    XCTAssertEqual(Int8(bitPattern: first & 0xF0) >> 4, values[70])
    let scales = try XCTUnwrap(proto.graph.initializer.first { $0.name == dequantize.input[1] })
    XCTAssertEqual(scales.dims, [3, 5])
  }

  func testWeightOnlyRoundTripKeepsLevelsScalesAndOutputs() throws {
    for bits in [4, 8] {
      let model = try model(bits: bits)
      let back = try ONNXImporter.load(data: ONNXExporter.data(model), path: "wq.onnx").model()
      let original = try XCTUnwrap(model.nodes[0].layer as? WeightOnlyLinear)
      let imported = try XCTUnwrap(back.nodes.first { $0.name == "fc1" }?.layer as? WeightOnlyLinear, "\(bits) bits")
      XCTAssertEqual(imported.weights.bits, bits)
      XCTAssertEqual(imported.weights.groupSize, 32)
      XCTAssertEqual(imported.weights.values, original.weights.values)
      XCTAssertEqual(imported.weights.scales, original.weights.scales)
      XCTAssertEqual(imported.bias?.scalars, original.bias?.scalars)
      // The row rounding comes back as its own nodes; the weight-only layer rounds again, which
      // changes nothing (the rounded rows are already on the grid).
      XCTAssertEqual(
        back.nodes.map(\.layer.op).filter { !$0.hasPrefix("onnx.") }.suffix(3), ["wq_linear", "relu", "linear"])
      var g = SeededGenerator(seed: 2)
      let x = Tensor<Float>.uniform([4, 70], low: -1, high: 1, generator: &g)
      XCTAssertLessThan(back.predict(x).maxAbsDifference(model.predict(x)), 1e-6, "\(bits) bits")
    }
  }

  /// Levels of 3 bits travel as INT4 (ONNX has nothing narrower) and come back as int4 levels
  /// of the same values; AWQ's input scale becomes a Div before the MatMul, imported as its own
  /// node: the outputs are the same.
  func testThreeBitAndInputScaledLayersExportAndComputeTheSame() throws {
    var g = SeededGenerator(seed: 21)
    let fc1 = Linear(inputs: 70, outputs: 5, generator: &g)
    let scale = Tensor<Float>.uniform([70], low: 0.5, high: 3, generator: &g)
    let quantized = WeightOnlyLinear(
      weights: GroupQuantizedWeights(quantizing: fc1.weight.value, bits: 3, groupSize: 32), bias: fc1.bias?.value,
      inputScale: scale)
    let model = try Model(architecture: "awq-mlp", inputShape: [70], classCount: 5, sequence: [("fc1", quantized)])
    let proto = try ONNXExporter.proto(model)
    XCTAssertEqual(
      proto.graph.node.map(\.opType),
      [
        "DequantizeLinear", "Div", "Abs", "ReduceMax", "Div", "Equal", "Where", "Reciprocal", "Mul", "Round", "Clip",
        "Mul", "MatMul", "Add",
      ])
    let dequantize = try XCTUnwrap(proto.graph.node.first { $0.opType == "DequantizeLinear" })
    let levels = try XCTUnwrap(proto.graph.initializer.first { $0.name == dequantize.input[0] })
    XCTAssertEqual(levels.dataType, Int32(Onnx_TensorProto.DataType.int4.rawValue))
    let back = try ONNXImporter.load(data: ONNXExporter.data(model), path: "awq.onnx").model()
    let imported = try XCTUnwrap(back.nodes.first { $0.layer is WeightOnlyLinear }?.layer as? WeightOnlyLinear)
    XCTAssertEqual(imported.weights.values, quantized.weights.values)
    let x = Tensor<Float>.uniform([4, 70], low: -1, high: 1, generator: &g)
    XCTAssertLessThan(back.predict(x).maxAbsDifference(model.predict(x)), 1e-5)
  }

  /// Blocks that the weight-only kernels cannot take (16 is not a multiple of 32) import as an
  /// fp32 Linear holding the dequantized weights.
  func testOtherBlockSizesImportAsDequantizedLinear() throws {
    var levels = Onnx_TensorProto()
    levels.name = "q"
    levels.dims = [4, 2]
    levels.dataType = Int32(Onnx_TensorProto.DataType.int4.rawValue)
    levels.rawData = TensorEncoder.proto("q", shape: [4, 2], int4: [1, -2, 3, -4, 5, -6, 7, -8]).rawData
    let model = ONNXBuild.model(
      nodes: [
        ONNXBuild.node("DequantizeLinear", ["q", "s"], ["w"], [Attr.int("axis", 0), Attr.int("block_size", 2)]),
        ONNXBuild.node("MatMul", ["x", "w"], ["y"], name: "mm"),
      ],
      initializers: [levels, ONNXBuild.tensor("s", [2, 2], [1, 0.5, 2, 0.25])],
      inputs: [ONNXBuild.value("x", [nil, 4])], outputs: ["y"], opset: 21)
    let back = try ONNXImporter.load(data: ONNXBuild.data(model)).model()
    let linear = try XCTUnwrap(back.nodes.first?.layer as? Linear)
    // w = levels · scale of their block of two rows: [[1, -1], [3, -2], [10, -1.5], [14, -2]], as [out, in].
    XCTAssertEqual(linear.weight.value.scalars, [1, 3, 10, 14, -1, -2, -1.5, -2])
  }

  /// Blocked QuantizeLinear on a run-time value: each block of 2 along the last axis has its own
  /// scale and zero point; it exports at opset 21 and reads back the same.
  func testBlockedQuantizeLinearAtRunTime() throws {
    var zero = Onnx_TensorProto()
    zero.name = "z"
    zero.dims = [1, 2]
    zero.dataType = Int32(Onnx_TensorProto.DataType.uint8.rawValue)
    zero.rawData = Data([10, 100])
    let model = ONNXBuild.model(
      nodes: [ONNXBuild.node("QuantizeLinear", ["x", "s", "z"], ["y"], [Attr.int("block_size", 2)])],
      initializers: [ONNXBuild.tensor("s", [1, 2], [0.5, 2]), zero], inputs: [ONNXBuild.value("x", [1, 4])],
      outputs: ["y"], opset: 21)
    let graph = try ONNXImporter.load(data: ONNXBuild.data(model))
    let x = Tensor<Float>(shape: [1, 4], scalars: [1, -10, 3, 1000])
    // round(x / s) + z, clamped to 0...255: [2 + 10, -20 + 10 -> 0, 2 + 100 (1.5 rounds to even), 500 + 100 -> 255].
    XCTAssertEqual(graph.run([x])[0].scalars, [12, 0, 102, 255])
    let back = try ONNXImporter.load(data: ONNXExporter.data(graph.model())).model()
    XCTAssertEqual(back.predict(x).scalars, [12, 0, 102, 255])
  }
}
