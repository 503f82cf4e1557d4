import Foundation
import XCTest

@testable import LatheTensor

/// A model of two inputs (x, and a per-example offset whose batch is its second axis) and two
/// outputs, fed from a dataset's named arrays: predictions, timing and fitting all use every
/// input, and a dataset without the second one is refused by name.
final class MultiInputModelTests: XCTestCase {
  /// y = x + offset (offset stored [2, N] in the model's layout), z = the offset as it is.
  private func model() throws -> Model {
    let offset = ModelInput(
      name: "offset_in", shape: [2, -1], exampleShape: [2, 1], elementType: "float", sourceName: "offset",
      batchAxis: 1)
    let transpose = TransposeForTest()
    let graph = [
      Node("z", Function(.relu), inputs: ["offset_in"]),
      Node("transposed", transpose, inputs: ["offset_in"]),
      Node("y", Function(.add), inputs: ["input", "transposed"]),
    ]
    let m = try Model(architecture: "two", inputShape: [2], classCount: 2, nodes: graph, extraInputs: [offset])
    m.extraOutputs = ["z"]
    return m
  }

  func testDatasetFeedsEveryInputWithTheBatchWhereTheModelWantsIt() throws {
    let m = try model()
    let x = Tensor<Float>(shape: [3, 2], scalars: [0, 0, 1, 1, 2, 2])
    // Stored example-first, [N, 2]; the model reads it as [2, N].
    let offset = Tensor<Float>(shape: [3, 2], scalars: [10, -10, 20, -20, 30, -30])
    let data = Dataset(name: "pairs", inputs: x, namedInputs: ["offset": offset], labels: [0, 0, 1], classCount: 2)
    let feeds = m.feeds(data, 0..<3)
    XCTAssertEqual(feeds[1].shape, [2, 3])
    XCTAssertEqual(feeds[1].scalars, [10, 20, 30, -10, -20, -30])
    let out = m.predict(feeds: feeds)
    XCTAssertEqual(out[0].scalars, [10, -10, 21, -19, 32, -28])
    XCTAssertEqual(out[1].scalars, [10, 20, 30, 0, 0, 0])
    // argmax of (10, -10), (21, -19), (32, -28): class 0 each time.
    XCTAssertEqual(Evaluator.predictions(of: m, on: data, batchSize: 2), [0, 0, 0])
    XCTAssertEqual(try data.fitted(to: m, modelName: "two").count, 3)
    XCTAssertEqual(LatencyMeasurement.measure(m, batchSize: 4, minimumRuns: 2, minimumSeconds: 0).runs, 2)
  }

  func testDatasetWithoutTheSecondInputIsRefusedByName() throws {
    let m = try model()
    let data = Dataset(name: "plain", inputs: .zeros([3, 2]), labels: [0, 1, 0], classCount: 2)
    XCTAssertThrowsError(try data.fitted(to: m, modelName: "two.onnx")) {
      XCTAssertTrue("\($0)".contains("also reads offset, which plain does not hold"), "\($0)")
    }
  }

  /// y = x + scale, scale a scalar input with no batch axis (as Silero's sample rate): a
  /// dataset holds it once per example, [N, 1], all equal; one value feeds each batch.
  private func scaled() throws -> Model {
    let scale = ModelInput(name: "scale_in", shape: [], exampleShape: [], sourceName: "scale", batchAxis: nil)
    let graph = [Node("y", Function(.add), inputs: ["input", "scale_in"])]
    return try Model(architecture: "scaled", inputShape: [2], classCount: 2, nodes: graph, extraInputs: [scale])
  }

  func testAnInputWithoutABatchAxisTakesOneValueForTheBatch() throws {
    let m = try scaled()
    let x = Tensor<Float>(shape: [3, 2], scalars: [0, 1, 2, 3, 4, 5])
    let data = Dataset(
      name: "same", inputs: x, namedInputs: ["scale": Tensor(shape: [3, 1], scalars: [7, 7, 7])], labels: [0, 1, 0],
      classCount: 2)
    XCTAssertNil(m.missingFeeds(in: data))
    let feeds = m.feeds(data, 1..<3)
    XCTAssertEqual(feeds[1].shape, [])
    XCTAssertEqual(m.predict(feeds: feeds)[0].scalars, [9, 10, 11, 12])
  }

  func testExtraInputArraysOfAnotherShapeOrDifferingScalarsAreRefused() throws {
    let m = try scaled()
    let x = Tensor<Float>.zeros([3, 2])
    let differing = Dataset(
      name: "differ", inputs: x, namedInputs: ["scale": Tensor(shape: [3, 1], scalars: [7, 8, 7])], labels: [0, 1, 0],
      classCount: 2)
    XCTAssertTrue(m.missingFeeds(in: differing)?.contains("differs between examples (0 and 1)") ?? false)
    let offsets = try model()
    let wrong = Dataset(
      name: "wide", inputs: x, namedInputs: ["offset": .zeros([3, 3])], labels: [0, 1, 0], classCount: 2)
    XCTAssertThrowsError(try wrong.fitted(to: offsets, modelName: "two.onnx")) {
      XCTAssertTrue("\($0)".contains("holds examples of shape [3]; the model's input takes [2] per example"), "\($0)")
    }
  }

  func testExtraInputsAndOutputsSurviveTheDescription() throws {
    let m = try model()
    let back = try ModelDescription(m).makeModel(builders: [TransposeForTest.Builder()])
    XCTAssertEqual(back.extraInputs, m.extraInputs)
    XCTAssertEqual(back.extraOutputs, ["z"])
    let copy = m.copy()
    XCTAssertEqual(copy.extraInputs, m.extraInputs)
    XCTAssertEqual(copy.extraOutputs, m.extraOutputs)
  }
}

/// [2, N] → [N, 2], so the test model has an input whose batch is its second axis.
private final class TransposeForTest: Layer {
  struct Builder: LayerBuilding {
    func makeLayer(_ spec: LayerSpec) throws(ModelError) -> Layer? { spec.op == "test.T" ? TransposeForTest() : nil }
  }
  var spec: LayerSpec { LayerSpec(op: "test.T") }
  var parameters: [(name: String, parameter: Parameter)] { [] }
  func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable { inputs[0].permuted([1, 0]) }
  func copy() -> Layer { TransposeForTest() }
}

/// A shape pass feeds zeros, which can take a path real inputs never do: outside a
/// `RunFailure.checking` the pass keeps the shapes before the failing node instead of stopping
/// the program; inside one the caller gets the failure.
final class ShapePassFailureTests: XCTestCase {
  func testAFailingShapePassKeepsTheShapesBeforeIt() throws {
    let graph = [
      Node("a", Function(.relu), inputs: ["input"]),
      Node("b", RefusesZeros(), inputs: ["a"]),
      Node("c", Function(.relu), inputs: ["b"]),
    ]
    let m = try Model(architecture: "zeros", inputShape: [3], classCount: 3, nodes: graph)
    let shapes = m.outputShapes()
    XCTAssertEqual(shapes["a"], [1, 3])
    XCTAssertNil(shapes["b"])
    XCTAssertNil(shapes["c"])
    XCTAssertThrowsError(try RunFailure.checking { m.outputShapes() }) {
      XCTAssertTrue("\($0)".contains("node \"b\""), "\($0)")
    }
    XCTAssertEqual(m.outputShapes(exampleShape: [3]).count, 1)
  }
}

/// Records a run failure when fed only zeros (as a branch picked by a zero condition might).
private final class RefusesZeros: Layer {
  var spec: LayerSpec { LayerSpec(op: "test.RefusesZeros") }
  var parameters: [(name: String, parameter: Parameter)] { [] }
  func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    if inputs[0].value.scalars.allSatisfy({ $0 == 0 }) { RunFailure.record("RefusesZeros", "all zeros") }
    return inputs[0]
  }
  func copy() -> Layer { RefusesZeros() }
}
