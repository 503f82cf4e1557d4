import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// NonZero, Compress, Unique, NonMaxSuppression, EyeLike, the window functions, ReverseSequence
/// and Swish through the importer, with expected values worked out by hand; the layers' spec
/// round trips; malformed nodes refused with their reason; gradients of the differentiable
/// ones against central differences (NonZero's coordinates and NMS's box indices take none).
final class SelectionOpTests: XCTestCase {
  /// The outputs of a one-node graph reading graph input `x` and initializers.
  func run(
    _ op: String, _ inputs: [String], _ initializers: [Onnx_TensorProto] = [], x: Tensor<Float>,
    outputs: [String] = ["y"], _ attributes: [Onnx_AttributeProto] = []
  ) throws -> [Tensor<Float>] {
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node(op, inputs, outputs, name: "n", attributes)], initializers: initializers,
      inputs: [ONNXBuild.value("x", x.shape)], outputs: outputs, opset: 21)
    return try ONNXImporter.load(data: ONNXBuild.data(m)).run([x])
  }

  func testEveryConvertedOperatorIsListedAsSupported() {
    for ops in [ONNXConverters.selectionOps, ONNXConverters.signalOps, ONNXConverters.quantizedOps] {
      XCTAssertEqual(ops.subtracting(ONNXConverters.supported), [])
    }
  }

  func testNonZeroAndCompress() throws {
    let x = Tensor<Float>(shape: [2, 2], scalars: [1, 0, 0, 3])
    let nonZero = try run("NonZero", ["x"], x: x)[0]
    XCTAssertEqual(nonZero.shape, [2, 2])
    XCTAssertEqual(nonZero.scalars, [0, 1, 0, 1], "rows (0, 1), columns (0, 1)")
    let condition = ONNXBuild.integers("c", [2], [0, 1], .bool)
    let columns = try run("Compress", ["x", "c"], [condition], x: x, [Attr.int("axis", -1)])[0]
    XCTAssertEqual(columns.shape, [2, 1])
    XCTAssertEqual(columns.scalars, [0, 3])
    // No axis: the flattened input, the condition shorter than it.
    let flat = try run("Compress", ["x", "c"], [ONNXBuild.integers("c", [3], [1, 0, 1], .bool)], x: x)[0]
    XCTAssertEqual(flat.scalars, [1, 0])
    XCTAssertThrowsError(
      try run("Compress", ["x", "c"], [ONNXBuild.integers("c", [5], [1, 1, 1, 1, 1], .bool)], x: x)
    ) { XCTAssertTrue("\($0)".contains("condition has 5 values"), "\($0)") }
    XCTAssertEqual(try ONNXLayers().makeLayer(ONNXNonZero().spec)?.spec, ONNXNonZero().spec)
  }

  func testUniqueSortedAndInOrderOfAppearance() throws {
    let x = Tensor<Float>(shape: [6], scalars: [2, 1, 1, 3, 4, 3])
    let outputs = ["y", "indices", "inverse", "counts"]
    let sorted = try run("Unique", ["x"], x: x, outputs: outputs)
    XCTAssertEqual(sorted.map(\.scalars), [[1, 2, 3, 4], [1, 0, 3, 4], [1, 0, 0, 2, 3, 2], [2, 1, 2, 1]])
    let unsorted = try run("Unique", ["x"], x: x, outputs: outputs, [Attr.int("sorted", 0)])
    XCTAssertEqual(unsorted.map(\.scalars), [[2, 1, 3, 4], [0, 1, 3, 4], [0, 1, 1, 2, 3, 2], [1, 2, 2, 1]])
    // Rows along axis 0: [1, 0] twice and [0, 1], sorted lexicographically.
    let rows = try run(
      "Unique", ["x"], x: Tensor(shape: [3, 2], scalars: [1, 0, 0, 1, 1, 0]), outputs: ["y", "i", "v", "c"],
      [Attr.int("axis", 0)])
    XCTAssertEqual(rows[0].shape, [2, 2])
    XCTAssertEqual(rows.map(\.scalars), [[0, 1, 1, 0], [1, 0], [1, 0, 1], [1, 2]])
    for output in ONNXUnique.Output.allCases {
      let layer = ONNXUnique(axis: 1, sorted: false, output: output)
      XCTAssertEqual(try ONNXUnique(spec: layer.spec)?.spec, layer.spec)
    }
    XCTAssertThrowsError(try ONNXUnique(spec: LayerSpec(op: "onnx.Unique", attributes: ["output": .string("all")])))
    XCTAssertThrowsError(try run("Unique", ["x"], x: x, [Attr.int("axis", 1)])) {
      XCTAssertTrue("\($0)".contains("axis"), "\($0)")
    }
  }

  func testNonMaxSuppression() throws {
    // Box 1 lies inside box 0: IoU 0.81/1 = 0.81; box 2 is apart. Scores: 0.9, 0.8, 0.7.
    let boxes = Tensor<Float>(shape: [1, 3, 4], scalars: [0, 0, 1, 1, 0.1, 0.1, 1, 1, 5, 5, 6, 6])
    let scores = ONNXBuild.tensor("scores", [1, 1, 3], [0.9, 0.8, 0.7])
    let limits = [
      ONNXBuild.int64s("max", [3]), ONNXBuild.tensor("iou", [1], [0.5]), ONNXBuild.tensor("score", [1], [0.75]),
    ]
    let inputs = ["x", "scores", "max", "iou"]
    XCTAssertEqual(try run("NonMaxSuppression", inputs, [scores] + limits, x: boxes)[0].scalars, [0, 0, 0, 0, 0, 2])
    // Box 2 scores below 0.75; with IoU threshold 0.9, box 1 survives box 0.
    var loose = limits
    loose[1] = ONNXBuild.tensor("iou", [1], [0.9])
    let kept = try run("NonMaxSuppression", inputs + ["score"], [scores] + loose, x: boxes)[0]
    XCTAssertEqual(kept.shape, [2, 3])
    XCTAssertEqual(kept.scalars, [0, 0, 0, 0, 0, 1])
    // Centre format: (0.5, 0.5, 1, 1) is box 0's corners; (5.5, 5.5, 1, 1) box 2's.
    let centred = Tensor<Float>(shape: [1, 3, 4], scalars: [0.5, 0.5, 1, 1, 0.55, 0.55, 0.9, 0.9, 5.5, 5.5, 1, 1])
    let selected = try run(
      "NonMaxSuppression", inputs, [scores] + limits, x: centred, [Attr.int("center_point_box", 1)])[0]
    XCTAssertEqual(selected.scalars, [0, 0, 0, 0, 0, 2])
    let layer = ONNXNonMaxSuppression(maxPerClass: 2, iouThreshold: 0.5, scoreThreshold: 0.25, centerPointBox: true)
    XCTAssertEqual(try ONNXNonMaxSuppression(spec: layer.spec)?.spec, layer.spec)
    XCTAssertThrowsError(
      try run(
        "NonMaxSuppression", inputs, [scores] + limits, x: Tensor(shape: [1, 3, 2], scalars: [0, 0, 0, 0, 0, 0]))
    ) {
      XCTAssertTrue("\($0)".contains("[batches, boxes, 4]"), "\($0)")
    }
  }

  func testEyeLikeAndWindows() throws {
    let eye = try run("EyeLike", ["x"], x: Tensor(repeating: 7, shape: [2, 3]), [Attr.int("k", 1)])[0]
    XCTAssertEqual(eye.scalars, [0, 1, 0, 0, 0, 1])
    let size = [ONNXBuild.int64s("size", [4])]
    let window = { (op: String, periodic: Int) in
      try self.run(op, ["size"], size, x: Tensor(0), [Attr.int("periodic", periodic)])[0].scalars
    }
    // Periodic: N = 4, so 2πn/4; symmetric: N − 1 = 3, so 2πn/3.
    assertClose(try window("HannWindow", 1), [0, 0.5, 1, 0.5])
    assertClose(try window("HannWindow", 0), [0, 0.75, 0.75, 0])
    assertClose(try window("HammingWindow", 1), [2 / 23, 25 / 46, 1, 25 / 46])
    assertClose(try window("BlackmanWindow", 1), [0, 0.34, 1, 0.34])
    XCTAssertThrowsError(try run("HannWindow", ["size"], [ONNXBuild.int64s("size", [-1])], x: Tensor(0))) {
      XCTAssertTrue("\($0)".contains("size -1"), "\($0)")
    }
  }

  func assertClose(_ got: [Float], _ want: [Float], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(got.count, want.count, file: file, line: line)
    for (g, w) in zip(got, want) { XCTAssertEqual(g, w, accuracy: 1e-6, file: file, line: line) }
  }

  func testReverseSequenceAndSwish() throws {
    let lengths = [ONNXBuild.int64s("lens", [2, 3])]
    let x = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let attributes = [Attr.int("batch_axis", 0), Attr.int("time_axis", 1)]
    XCTAssertEqual(
      try run("ReverseSequence", ["x", "lens"], lengths, x: x, attributes)[0].scalars, [2, 1, 3, 6, 5, 4])
    XCTAssertThrowsError(try run("ReverseSequence", ["x", "lens"], [ONNXBuild.int64s("lens", [2])], x: x, attributes)) {
      XCTAssertTrue("\($0)".contains("one length"), "\($0)")
    }
    let swish = try run("Swish", ["x"], x: Tensor(shape: [2], scalars: [0, 2]), [Attr.float("alpha", 0.5)])[0]
    assertClose(swish.scalars, [0, 2 / (1 + Foundation.exp(-1))])
  }
}

extension GradientTests {
  func testSelectionGradients() throws {
    check([5]) { x in
      var context = ForwardContext(isTraining: true)
      return ONNXUnique(axis: nil, sorted: true, output: .values).forward([x], context: &context)
    }
    check([3, 2]) { x in
      var context = ForwardContext(isTraining: true)
      return ONNXUnique(axis: 0, sorted: false, output: .values).forward([x], context: &context)
    }
    // ReverseSequence and Swish import as layers with their own gradients: check what the
    // importer made of them (ReverseSequence's lengths fix the batch, so its graph's one layer).
    let reverse = ONNXBuild.model(
      nodes: [
        ONNXBuild.node(
          "ReverseSequence", ["x", "lens"], ["y"], name: "n", [Attr.int("batch_axis", 0), Attr.int("time_axis", 1)])
      ],
      initializers: [ONNXBuild.int64s("lens", [2, 3])], inputs: [ONNXBuild.value("x", [2, 3])], outputs: ["y"],
      opset: 21)
    let layer = try XCTUnwrap(try ONNXImporter.load(data: ONNXBuild.data(reverse)).nodes.first?.layer)
    check([2, 3]) { x in
      var context = ForwardContext(isTraining: true)
      return layer.forward([x], context: &context)
    }
    let swish = ONNXBuild.model(
      nodes: [ONNXBuild.node("Swish", ["x"], ["y"], name: "n", [Attr.float("alpha", 0.5)])], initializers: [],
      inputs: [ONNXBuild.value("x", [2, 3])], outputs: ["y"], opset: 21)
    let model = try ONNXImporter.load(data: ONNXBuild.data(swish)).model()
    check([2, 3]) { x in
      var context = ForwardContext(isTraining: true)
      return model.forward(x, context: &context)
    }
    for x in [Variable(Tensor(shape: [2], scalars: [1, 0]), requiresGrad: true)] {
      var context = ForwardContext(isTraining: true)
      ONNXNonZero().forward([x], context: &context).sum().backpropagate()
      XCTAssertEqual(x.grad?.scalars, [0, 0])
    }
  }
}
