import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// Attributes that contradict the tensors they describe give errors naming the file, the node
/// and the operator, and saying what is wrong.
final class AttributeErrorTests: XCTestCase {
  func assertFails(
    _ node: Onnx_NodeProto, input: [Int], initializers: [Onnx_TensorProto] = [], opset: Int = 13,
    saying expected: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    let model = ONNXBuild.model(
      nodes: [node], initializers: initializers, inputs: [ONNXBuild.value("x", input)], outputs: [node.output[0]],
      opset: opset)
    XCTAssertThrowsError(try ONNXImporter.load(data: ONNXBuild.data(model), path: "bad.onnx"), file: file, line: line) {
      let message = "\($0)"
      XCTAssertTrue(
        message.hasPrefix("bad.onnx: node \"\(node.name)\" (\(node.opType))"), message, file: file, line: line)
      XCTAssertTrue(message.contains(expected), message, file: file, line: line)
    }
  }

  func testConvKernelShapeMustMatchTheWeight() {
    let node = ONNXBuild.node("Conv", ["x", "W"], ["y"], name: "c", [Attr.ints("kernel_shape", [3, 3, 3])])
    let weight = ONNXBuild.tensor("W", [1, 1, 2, 2, 2], Array(repeating: 1, count: 8))
    assertFails(node, input: [1, 1, 4, 4, 4], initializers: [weight], saying: "kernel_shape [3, 3, 3]")
  }

  func testConvTransposeOutputShapeNeedsOneValuePerAxis() {
    let node = ONNXBuild.node("ConvTranspose", ["x", "W"], ["y"], name: "t", [Attr.ints("output_shape", [9])])
    let weight = ONNXBuild.tensor("W", [1, 1, 2, 2], [1, 1, 1, 1])
    assertFails(node, input: [1, 1, 3, 3], initializers: [weight], saying: "output_shape [9] should have 2 values")
  }

  func testPoolAttributesMustDescribeEverySpatialAxis() {
    let pool = ONNXBuild.node("AveragePool", ["x"], ["y"], name: "p", [Attr.ints("kernel_shape", [2, 2])])
    assertFails(pool, input: [1, 1, 4, 4, 4], saying: "kernel_shape should have 3 values")
    let strided = ONNXBuild.node(
      "MaxPool", ["x"], ["y"], name: "m", [Attr.ints("kernel_shape", [2, 2, 2]), Attr.ints("strides", [1, 1])])
    assertFails(strided, input: [1, 1, 4, 4, 4], saying: "do not describe 3 spatial axes")
    let order = ONNXBuild.node(
      "MaxPool", ["x"], ["y", "i"], name: "o", [Attr.ints("kernel_shape", [2]), Attr.int("storage_order", 2)])
    assertFails(order, input: [1, 1, 4], saying: "storage_order 2")
  }

  func testBlockedDequantizeLinearChecksItsScales() {
    var levels = Onnx_TensorProto()
    levels.name = "q"
    levels.dims = [4, 2]
    levels.dataType = Int32(Onnx_TensorProto.DataType.int8.rawValue)
    levels.rawData = Data(repeating: 1, count: 8)
    let dequantize = ONNXBuild.node(
      "DequantizeLinear", ["q", "s"], ["w"], name: "dq", [Attr.int("axis", 0), Attr.int("block_size", 2)])
    let matmul = ONNXBuild.node("MatMul", ["x", "w"], ["y"], name: "mm")
    let model = ONNXBuild.model(
      nodes: [dequantize, matmul], initializers: [levels, ONNXBuild.tensor("s", [1, 2], [1, 1])],
      inputs: [ONNXBuild.value("x", [1, 4])], outputs: ["y"], opset: 21)
    XCTAssertThrowsError(try ONNXImporter.load(data: ONNXBuild.data(model), path: "bad.onnx")) {
      XCTAssertTrue("\($0)".contains("node \"dq\" (DequantizeLinear): scale has shape [1, 2]"), "\($0)")
      XCTAssertTrue("\($0)".contains("need [2, 2]"), "\($0)")
    }
    let quantize = ONNXBuild.node("QuantizeLinear", ["x", "s"], ["y"], name: "q", [Attr.int("block_size", 3)])
    assertFails(
      quantize, input: [1, 4], initializers: [ONNXBuild.tensor("s", [1, 1], [1])], opset: 21,
      saying: "scale has shape [1, 1]; blocks of 3 along axis 1 need [1, 2]")
  }
}
