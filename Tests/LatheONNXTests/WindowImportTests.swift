import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// Convolution, transposed convolution and pooling over one to three spatial axes, checked
/// against the loop-by-loop references in NaiveWindows.
final class WindowImportTests: XCTestCase {
  func uniform(_ shape: [Int], seed: UInt64) -> Tensor<Float> {
    var g = SeededGenerator(seed: seed)
    return .uniform(shape, low: -1, high: 1, generator: &g)
  }

  func tensor(_ name: String, _ t: Tensor<Float>) -> Onnx_TensorProto {
    ONNXBuild.tensor(name, t.shape, t.contiguous().scalars)
  }

  /// One node reading graph input "x" (with the given initializers) and writing `outputs`.
  func run(
    _ node: Onnx_NodeProto, x: Tensor<Float>, initializers: [Onnx_TensorProto] = [], opset: Int = 13
  ) throws -> [Tensor<Float>] {
    let model = ONNXBuild.model(
      nodes: [node], initializers: initializers, inputs: [ONNXBuild.value("x", x.shape)], outputs: node.output,
      opset: opset)
    return try ONNXImporter.load(data: ONNXBuild.data(model), path: "window.onnx").run([x])
  }

  func assertSame(_ got: Tensor<Float>, _ want: Tensor<Float>, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(got.shape, want.shape, file: file, line: line)
    assertClose(got.contiguous().scalars, want.contiguous().scalars, accuracy: 1e-4, file: file, line: line)
  }

  func testConv3DWithGroupsPadsStridesAndDilations() throws {
    let x = uniform([2, 4, 4, 5, 6], seed: 1)
    let w = uniform([6, 2, 2, 3, 2], seed: 2)
    let bias: [Float] = [0.1, -0.2, 0.3, 0, 0.5, -1]
    let (stride, pads, dilation) = ([1, 2, 1], [1, 0, 1, 0, 1, 1], [1, 1, 2])
    let node = ONNXBuild.node(
      "Conv", ["x", "W", "B"], ["y"], name: "conv3d",
      [Attr.int("group", 2), Attr.ints("strides", stride), Attr.ints("pads", pads), Attr.ints("dilations", dilation)])
    let y = try run(node, x: x, initializers: [tensor("W", w), ONNXBuild.tensor("B", [6], bias)])
    let want = NaiveWindows.conv(x, w, bias: bias, stride: stride, pads: pads, dilation: dilation, groups: 2)
    assertSame(y[0], want)
  }

  func testConv1DMatchesNaive() throws {
    let x = uniform([2, 3, 9], seed: 3)
    let w = uniform([4, 3, 3], seed: 4)
    let node = ONNXBuild.node(
      "Conv", ["x", "W"], ["y"],
      [Attr.ints("strides", [2]), Attr.ints("pads", [2, 1]), Attr.ints("dilations", [2])])
    let y = try run(node, x: x, initializers: [tensor("W", w)])
    assertSame(y[0], NaiveWindows.conv(x, w, bias: nil, stride: [2], pads: [2, 1], dilation: [2], groups: 1))
  }

  func testConvTranspose1DAnd3D() throws {
    let x1 = uniform([1, 2, 5], seed: 5)
    let w1 = uniform([2, 3, 3], seed: 6)
    let node1 = ONNXBuild.node(
      "ConvTranspose", ["x", "W"], ["y"],
      [Attr.ints("strides", [2]), Attr.ints("pads", [1, 0]), Attr.ints("output_padding", [1])])
    let y1 = try run(node1, x: x1, initializers: [tensor("W", w1)])
    let want1 = NaiveWindows.convTranspose(
      x1, w1, bias: nil, stride: [2], pads: [1, 0], dilation: [1], outputPadding: [1], groups: 1)
    assertSame(y1[0], want1)

    let x3 = uniform([1, 4, 2, 3, 2], seed: 7)
    let w3 = uniform([4, 1, 2, 2, 3], seed: 8)
    let (stride, pads, dilation) = ([2, 1, 2], [0, 1, 1, 1, 0, 0], [1, 2, 1])
    let node3 = ONNXBuild.node(
      "ConvTranspose", ["x", "W", "B"], ["y"],
      [Attr.int("group", 2), Attr.ints("strides", stride), Attr.ints("pads", pads), Attr.ints("dilations", dilation)])
    let y3 = try run(node3, x: x3, initializers: [tensor("W", w3), ONNXBuild.tensor("B", [2], [0.5, -0.5])])
    let want3 = NaiveWindows.convTranspose(
      x3, w3, bias: [0.5, -0.5], stride: stride, pads: pads, dilation: dilation, outputPadding: [0, 0, 0], groups: 2)
    assertSame(y3[0], want3)
  }

  /// output_shape larger than the strides give: ONNX's rule splits the (negative) total padding
  /// with floor division, widening the output at the end.
  func testConvTransposeOutputShape() throws {
    let x = uniform([1, 1, 3, 3], seed: 9)
    let w = uniform([1, 2, 3, 3], seed: 10)
    let node = ONNXBuild.node(
      "ConvTranspose", ["x", "W"], ["y"], [Attr.ints("strides", [3, 2]), Attr.ints("output_shape", [10, 8])])
    let y = try run(node, x: x, initializers: [tensor("W", w)])
    XCTAssertEqual(y[0].shape, [1, 2, 10, 8])
    let want = NaiveWindows.convTranspose(
      x, w, bias: nil, stride: [3, 2], pads: [0, 0, -1, -1], dilation: [1, 1], outputPadding: [0, 0], groups: 1)
    assertSame(y[0], want)
  }

  func testPool3DMatchesNaive() throws {
    let x = uniform([2, 3, 5, 6, 7], seed: 11)
    let maxNode = ONNXBuild.node(
      "MaxPool", ["x"], ["y"],
      [
        Attr.ints("kernel_shape", [2, 2, 3]), Attr.ints("strides", [2, 1, 2]), Attr.ints("pads", [0, 1, 1, 1, 0, 1]),
        Attr.ints("dilations", [1, 2, 1]), Attr.int("ceil_mode", 1),
      ])
    let want = NaiveWindows.pool(
      x, isMax: true, kernel: [2, 2, 3], stride: [2, 1, 2], pads: [0, 1, 1, 1, 0, 1], dilation: [1, 2, 1],
      ceilMode: true, countIncludePad: false)
    assertSame(try run(maxNode, x: x)[0], want.values)
    for include in [0, 1] {
      let node = ONNXBuild.node(
        "AveragePool", ["x"], ["y"],
        [
          Attr.ints("kernel_shape", [3, 2, 2]), Attr.ints("strides", [2, 2, 1]), Attr.ints("pads", [1, 0, 1, 1, 1, 0]),
          Attr.int("ceil_mode", 1), Attr.int("count_include_pad", include),
        ])
      let want = NaiveWindows.pool(
        x, isMax: false, kernel: [3, 2, 2], stride: [2, 2, 1], pads: [1, 0, 1, 1, 1, 0], dilation: [1, 1, 1],
        ceilMode: true, countIncludePad: include == 1)
      assertSame(try run(node, x: x)[0], want.values)
    }
  }

  /// MaxPool's second output: each maximum's flat index into the input, row-major or (storage
  /// order 1) with the spatial axes numbered column-major.
  func testMaxPoolIndices() throws {
    let x = uniform([1, 2, 5, 4], seed: 12)
    let want = NaiveWindows.pool(
      x, isMax: true, kernel: [3, 3], stride: [2, 2], pads: [1, 1, 1, 1], dilation: [1, 1], ceilMode: false,
      countIncludePad: false)
    for order in [0, 1] {
      let node = ONNXBuild.node(
        "MaxPool", ["x"], ["y", "i"],
        [
          Attr.ints("kernel_shape", [3, 3]), Attr.ints("strides", [2, 2]), Attr.ints("pads", [1, 1, 1, 1]),
          Attr.int("storage_order", order),
        ])
      let outputs = try run(node, x: x)
      assertSame(outputs[0], want.values)
      let expected = want.indices.map { index -> Float in
        guard order == 1 else { return Float(index) }
        let (plane, h, w) = (index / 20, index % 20 / 4, index % 4)
        return Float(plane * 20 + w * 5 + h)
      }
      XCTAssertEqual(outputs[1].scalars, expected, "storage_order \(order)")
    }
  }

  func testPadWrap() throws {
    let x = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let node = ONNXBuild.node("Pad", ["x", "pads"], ["y"], [Attr.string("mode", "wrap")])
    let y = try run(node, x: x, initializers: [ONNXBuild.int64s("pads", [1, 2, 0, 1])])
    XCTAssertEqual(y[0].shape, [3, 6])
    XCTAssertEqual(y[0].scalars, [5, 6, 4, 5, 6, 4, 2, 3, 1, 2, 3, 1, 5, 6, 4, 5, 6, 4])
  }

  func testDropoutMaskIsOnesAndRandomTrainingIsRefused() throws {
    let x = uniform([2, 3], seed: 13)
    let outputs = try run(ONNXBuild.node("Dropout", ["x"], ["y", "mask"]), x: x)
    XCTAssertEqual(outputs[0].scalars, x.scalars)
    XCTAssertEqual(outputs[1].scalars, Array(repeating: 1, count: 6))
    var training = Onnx_TensorProto()
    training.name = "training"
    training.dataType = Int32(Onnx_TensorProto.DataType.bool.rawValue)
    training.int32Data = [1]
    let node = ONNXBuild.node("Dropout", ["x", "ratio", "training"], ["y"], name: "drop")
    XCTAssertThrowsError(
      try run(node, x: x, initializers: [ONNXBuild.tensor("ratio", [], [0.5]), training])
    ) { error in
      XCTAssertTrue("\(error)".contains("node \"drop\" (Dropout)"), "\(error)")
      XCTAssertTrue("\(error)".contains("training_mode"), "\(error)")
    }
  }

  /// training_mode=1: normalised by the batch's own mean and population variance; the running
  /// statistics come out updated with the momentum.
  func testBatchNormalizationTrainingMode() throws {
    let x = uniform([3, 2, 2, 2], seed: 14)
    let (scale, bias, mean, variance): ([Float], [Float], [Float], [Float]) = ([1, 2], [0, 1], [0.5, -0.5], [1, 2])
    let node = ONNXBuild.node(
      "BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"],
      [Attr.int("training_mode", 1), Attr.float("momentum", 0.8), Attr.float("epsilon", 1e-3)])
    let initializers = [
      ONNXBuild.tensor("s", [2], scale), ONNXBuild.tensor("b", [2], bias), ONNXBuild.tensor("m", [2], mean),
      ONNXBuild.tensor("v", [2], variance),
    ]
    let outputs = try run(node, x: x, initializers: initializers, opset: 15)
    let xs = x.scalars
    var y = [Float](repeating: 0, count: xs.count)
    for c in 0..<2 {
      let indices = (0..<3).flatMap { n in (0..<4).map { n * 8 + c * 4 + $0 } }
      let m = indices.reduce(Float(0)) { $0 + xs[$1] } / 12
      let v = indices.reduce(Float(0)) { $0 + (xs[$1] - m) * (xs[$1] - m) } / 12
      for i in indices { y[i] = (xs[i] - m) / (v + 1e-3).squareRoot() * scale[c] + bias[c] }
      XCTAssertEqual(outputs[1].scalars[c], mean[c] * 0.8 + m * 0.2, accuracy: 1e-5)
      XCTAssertEqual(outputs[2].scalars[c], variance[c] * 0.8 + v * 0.2, accuracy: 1e-5)
    }
    assertClose(outputs[0].scalars, y, accuracy: 1e-4)
  }
}
