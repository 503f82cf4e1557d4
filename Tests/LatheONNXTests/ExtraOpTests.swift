import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// The bitwise ops folded at load (exactly, at the element type's width) and refused on run-time
/// inputs; LpNormalization and Einsum against hand-computed values and through the importer.
final class ExtraOpTests: XCTestCase {
  func run(_ layer: Layer, _ xs: [Tensor<Float>]) -> Tensor<Float> {
    var context = ForwardContext.inference
    return layer.forward(xs.map { Variable($0) }, context: &context).value
  }

  func integers(_ name: String, _ type: Onnx_TensorProto.DataType, _ values: [Int]) -> Onnx_TensorProto {
    var t = Onnx_TensorProto()
    t.name = name
    t.dims = [Int64(values.count)]
    t.dataType = Int32(type.rawValue)
    switch type {
    case .int64: t.int64Data = values.map { Int64($0) }
    case .uint64, .uint32: t.uint64Data = values.map { UInt64(bitPattern: Int64($0)) }
    default: t.int32Data = values.map { Int32($0) }
    }
    return t
  }

  /// `op` on integer constants, cast to float and added to a run-time zero.
  func bitwise(_ op: String, _ type: Onnx_TensorProto.DataType, _ a: [Int], _ b: [Int]? = nil) throws -> [Float] {
    let inputs = b == nil ? ["a"] : ["a", "b"]
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node(op, inputs, ["r"]), ONNXBuild.node("Cast", ["r"], ["rf"], [Attr.int("to", 1)]),
        ONNXBuild.node("Add", ["zero", "rf"], ["y"]),
      ],
      initializers: [integers("a", type, a)] + (b.map { [integers("b", type, $0)] } ?? []),
      inputs: [ONNXBuild.value("zero", [a.count])], outputs: ["y"], opset: 18)
    return try ONNXImporter.load(data: ONNXBuild.data(m)).run([Tensor.zeros([a.count])])[0].scalars
  }

  func testBitwise() throws {
    XCTAssertEqual(try bitwise("BitwiseAnd", .int32, [12, -1, 7], [10, 5, 0]), [8, 5, 0])
    XCTAssertEqual(try bitwise("BitwiseOr", .uint8, [12, 128, 0], [10, 1, 0]), [14, 129, 0])
    XCTAssertEqual(try bitwise("BitwiseXor", .int8, [12, -1, 5], [10, 1, 5]), [6, -2, 0])
    XCTAssertEqual(try bitwise("BitwiseNot", .uint8, [0, 255, 15]), [255, 0, 240], "wraps at 8 bits")
    XCTAssertEqual(try bitwise("BitwiseNot", .int16, [0, -1, 5]), [-1, 0, -6])
    XCTAssertEqual(try bitwise("BitwiseNot", .uint16, [1]), [65534])
  }

  func testBitwiseRefusesRunTimeInputs() {
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node("BitwiseAnd", ["x", "x"], ["y"])], initializers: [],
      inputs: [ONNXBuild.value("x", [2])], outputs: ["y"], opset: 18)
    XCTAssertThrowsError(try ONNXImporter.load(data: ONNXBuild.data(m)).run([Tensor.zeros([2])])) {
      XCTAssertTrue("\($0)".contains("constant"), "\($0)")
    }
  }

  func testLpNormalization() {
    let x = Tensor<Float>(shape: [2, 2], scalars: [3, -4, 0, 0])
    XCTAssertEqual(run(ONNXLpNormalization(axis: 1, p: 2), [x]).scalars, [0.6, -0.8, 0, 0], "a zero line stays 0")
    XCTAssertEqual(run(ONNXLpNormalization(axis: 1, p: 1), [x]).scalars, [3 / 7, -4 / 7, 0, 0])
    XCTAssertEqual(run(ONNXLpNormalization(axis: 0, p: 1), [x]).scalars, [1, -1, 0, 0])
  }

  func testEinsum() throws {
    let a = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let b = Tensor<Float>(shape: [3, 2], scalars: [1, 0, 0, 1, 1, 1])
    let mm = run(try ONNXEinsum(equation: "ij,jk->ik"), [a, b])
    XCTAssertEqual(mm.shape, [2, 2])
    XCTAssertEqual(mm.scalars, [4, 5, 10, 11])
    XCTAssertEqual(run(try ONNXEinsum(equation: "ij->ji"), [a]).scalars, [1, 4, 2, 5, 3, 6])
    XCTAssertEqual(run(try ONNXEinsum(equation: "ij->"), [a]).scalars, [21])
    XCTAssertEqual(run(try ONNXEinsum(equation: "ij"), [a]).scalars, a.scalars, "implicit output")
    XCTAssertEqual(run(try ONNXEinsum(equation: "ba"), [a]).shape, [3, 2], "implicit output is alphabetical")
    let square = Tensor<Float>(shape: [2, 2], scalars: [1, 2, 3, 4])
    XCTAssertEqual(run(try ONNXEinsum(equation: "ii->i"), [square]).scalars, [1, 4], "diagonal")
    XCTAssertEqual(run(try ONNXEinsum(equation: "ii"), [square]).scalars, [5], "trace")
    let batched = run(try ONNXEinsum(equation: "bij, bjk -> bik"), [a.reshaped([1, 2, 3]), b.reshaped([1, 3, 2])])
    XCTAssertEqual(batched.scalars, [4, 5, 10, 11])
    XCTAssertThrowsError(try ONNXEinsum(equation: "...ij->...ji")) {
      XCTAssertTrue("\($0)".contains("ellipsis"), "\($0)")
    }
    XCTAssertThrowsError(try ONNXEinsum(equation: "ij->k"))
  }

  func testEinsumThroughImporter() throws {
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node("Einsum", ["x", "w"], ["y"], [Attr.string("equation", "ij,kj->ik")])],
      initializers: [ONNXBuild.tensor("w", [1, 3], [1, 1, 1])],
      inputs: [ONNXBuild.value("x", [2, 3])], outputs: ["y"], opset: 18)
    let y = try ONNXImporter.load(data: ONNXBuild.data(m)).run([Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])])
    XCTAssertEqual(y[0].shape, [2, 1])
    XCTAssertEqual(y[0].scalars, [6, 15])
    let spec = try ONNXEinsum(equation: "ij,kj->ik").spec
    XCTAssertEqual((try ONNXExtraLayers.make(spec) as? ONNXEinsum)?.equation, "ij,kj->ik")
  }
}

/// CenterCropPad: crops and pads centred, the odd element at the end.
final class CenterCropPadTests: XCTestCase {
  func testCropAndPad() {
    let x = Tensor<Float>(shape: [3, 4], scalars: (1...12).map(Float.init))
    var context = ForwardContext.inference
    let y = ONNXCenterCropPad(axes: [0, 1], sizes: [1, 6]).forward([Variable(x)], context: &context).value
    XCTAssertEqual(y.shape, [1, 6])
    XCTAssertEqual(y.scalars, [0, 5, 6, 7, 8, 0])
    let z = ONNXCenterCropPad(axes: [1], sizes: [1]).forward([Variable(x)], context: &context).value
    XCTAssertEqual(z.scalars, [2, 6, 10], "crop start (4 − 1) / 2 = 1")
  }
}

/// RotaryEmbedding: a quarter turn maps (a, b) to (−b, a); features past the rotary dimension pass.
final class RotaryEmbeddingTests: XCTestCase {
  func testQuarterTurn() {
    let x = Tensor<Float>(shape: [1, 1, 1, 6], scalars: [1, 2, 3, 4, 5, 6])
    let (cos, sin) = (Tensor<Float>(shape: [1, 2], scalars: [0, 1]), Tensor<Float>(shape: [1, 2], scalars: [1, 0]))
    func rotate(_ interleaved: Bool) -> [Float] {
      var context = ForwardContext.inference
      let layer = ONNXRotaryEmbedding(interleaved: interleaved, rotaryDim: 4, heads: 0, positions: [0])
      return layer.forward([Variable(x), Variable(cos), Variable(sin)], context: &context).value.scalars
    }
    // Halves: pairs (1, 3) turned, (2, 4) kept; interleaved: pairs (1, 2) turned, (3, 4) kept.
    XCTAssertEqual(rotate(false), [-3, 2, 1, 4, 5, 6])
    XCTAssertEqual(rotate(true), [-2, 1, 3, 4, 5, 6])
  }
}
