import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// OneHot (`ONNXOneHot`): values by hand, negative and out-of-range indices, the new axis in
/// each place; run-time indices through the importer, the spec and export round trip, and the
/// zero gradient.
final class OneHotTests: XCTestCase {
  func oneHot(_ x: Tensor<Float>, depth: Int, axis: Int, off: Float = 0, on: Float = 1) -> Tensor<Float> {
    var context = ForwardContext.inference
    return ONNXOneHot(depth: depth, axis: axis, off: off, on: on).forward([Variable(x)], context: &context).value
  }

  func testValues() {
    let x = Tensor<Float>(shape: [3], scalars: [0, -1, 5])
    // −1 is depth − 1; 5 is out of range, so its row is all off.
    let y = oneHot(x, depth: 3, axis: 1, off: -2, on: 7)
    XCTAssertEqual(y.shape, [3, 3])
    XCTAssertEqual(y.scalars, [7, -2, -2, -2, -2, 7, -2, -2, -2])
    let first = oneHot(Tensor(shape: [2], scalars: [2, 1.9]), depth: 3, axis: 0)
    XCTAssertEqual(first.shape, [3, 2])
    XCTAssertEqual(first.scalars, [0, 0, 0, 1, 1, 0], "1.9 truncates to 1")
    let middle = oneHot(Tensor(shape: [2, 2], scalars: [0, 1, 1, 0]), depth: 2, axis: 1)
    XCTAssertEqual(middle.shape, [2, 2, 2])
    XCTAssertEqual(middle.scalars, [1, 0, 0, 1, 0, 1, 1, 0])
  }

  func testImportSaveAndExport() throws {
    let m = ONNXBuild.model(
      nodes: [ONNXBuild.node("OneHot", ["x", "depth", "values"], ["y"], name: "y", [Attr.int("axis", -2)])],
      initializers: [ONNXBuild.int64s("depth", [4]), ONNXBuild.tensor("values", [2], [0.5, 3])],
      inputs: [ONNXBuild.value("x", [nil, 2])], outputs: ["y"], opset: 11)
    let graph = try ONNXImporter.load(data: ONNXBuild.data(m))
    let x = Tensor<Float>(shape: [1, 2], scalars: [3, -4])
    let y = graph.run([x])[0]
    XCTAssertEqual(y.shape, [1, 4, 2])
    XCTAssertEqual(y.scalars, [0.5, 3, 0.5, 0.5, 0.5, 0.5, 3, 0.5])
    let model = try graph.model()
    let layer = try XCTUnwrap(model.nodes.compactMap { $0.layer as? ONNXOneHot }.first)
    XCTAssertEqual(layer.axis, 1)
    XCTAssertEqual(try ONNXOneHot(spec: layer.spec)?.spec, layer.spec)
    let again = try ONNXImporter.load(data: ONNXExporter.data(model)).model()
    XCTAssertEqual(again.predict(x).scalars, y.scalars)
    XCTAssertThrowsError(
      try ONNXImporter.load(
        data: ONNXBuild.data(
          ONNXBuild.model(
            nodes: [ONNXBuild.node("OneHot", ["x", "depth", "values"], ["y"], [Attr.int("axis", 3)])],
            initializers: [ONNXBuild.int64s("depth", [4]), ONNXBuild.tensor("values", [2], [0, 1])],
            inputs: [ONNXBuild.value("x", [nil, 2])], outputs: ["y"], opset: 11)))
    ) { XCTAssertTrue("\($0)".contains("out of range"), "\($0)") }
  }

  func testGradientIsZero() {
    let x = Variable(Tensor(shape: [3], scalars: [0, 1, 2]), requiresGrad: true)
    var context = ForwardContext(isTraining: true)
    (ONNXOneHot(depth: 3, axis: 1, off: 0, on: 1).forward([x], context: &context)
      * Variable(Tensor(shape: [3, 3], scalars: (0..<9).map { Float($0) }))).sum().backpropagate()
    XCTAssertEqual(x.grad?.scalars, [0, 0, 0])
  }
}
