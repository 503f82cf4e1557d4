import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// TopK (`ONNXTopK`): values and positions by hand (ties to the lower index, smallest, NaN),
/// both outputs through the importer, the spec round trip, and gradients: the values' against
/// central differences, the positions' zero.
final class TopKTests: XCTestCase {
  func topK(_ x: Tensor<Float>, k: Int, axis: Int, largest: Bool = true, _ output: ONNXTopK.Output) -> Tensor<Float> {
    var context = ForwardContext.inference
    return ONNXTopK(k: k, axis: axis, largest: largest, output: output).forward([Variable(x)], context: &context)
      .value
  }

  func testValuesAndIndices() {
    let x = Tensor<Float>(shape: [2, 4], scalars: [1, 3, 3, 2, -1, 0, 5, .nan])
    XCTAssertEqual(topK(x, k: 2, axis: 1, .indices).scalars, [1, 2, 3, 2], "ties to the lower index; NaN first")
    let values = topK(x, k: 2, axis: 1, .values).scalars
    XCTAssertEqual([values[0], values[1], values[3]], [3, 3, 5])
    XCTAssertTrue(values[2].isNaN)
    XCTAssertEqual(topK(x, k: 3, axis: 1, largest: false, .indices).scalars, [0, 3, 1, 0, 1, 2])
    let column = topK(Tensor(shape: [2, 2], scalars: [1, 4, 2, 3]), k: 1, axis: 0, .values)
    XCTAssertEqual(column.shape, [1, 2])
    XCTAssertEqual(column.scalars, [2, 4])
  }

  func testImportBothOutputsAndSpec() throws {
    let m = ONNXBuild.model(
      nodes: [
        ONNXBuild.node("TopK", ["x", "k"], ["v", "i"], name: "t", [Attr.int("largest", 0)]),
        ONNXBuild.node("Add", ["v", "i"], ["y"], name: "y"),
      ],
      initializers: [ONNXBuild.int64s("k", [2])], inputs: [ONNXBuild.value("x", [nil, 3])], outputs: ["y"], opset: 11)
    let model = try ONNXImporter.load(data: ONNXBuild.data(m)).model()
    // Smallest two of [5, −1, 2]: −1 at 1 and 2 at 2, so y = [0, 4].
    XCTAssertEqual(model.predict(Tensor(shape: [1, 3], scalars: [5, -1, 2])).scalars, [0, 4])
    let layers = model.nodes.compactMap { $0.layer as? ONNXTopK }
    XCTAssertEqual(layers.map(\.output), [.values, .indices])
    for layer in layers { XCTAssertEqual(try ONNXTopK(spec: layer.spec)?.spec, layer.spec) }
    XCTAssertThrowsError(try ONNXTopK(k: 4, axis: 1, largest: true, output: .values).outputShape(for: [[1, 3]])) {
      XCTAssertTrue("\($0)".contains("k 4"), "\($0)")
    }
  }
}

extension GradientTests {
  func testTopKGradients() {
    for largest in [true, false] {
      check([2, 5]) { x in
        var context = ForwardContext(isTraining: true)
        return ONNXTopK(k: 3, axis: 1, largest: largest, output: .values).forward([x], context: &context)
      }
    }
    let x = Variable(Tensor(shape: [3], scalars: [1, 3, 2]), requiresGrad: true)
    var context = ForwardContext(isTraining: true)
    ONNXTopK(k: 2, axis: 0, largest: true, output: .indices).forward([x], context: &context).sum().backpropagate()
    XCTAssertEqual(x.grad?.scalars, [0, 0, 0])
  }
}
