import XCTest

@testable import LatheTensor

/// The shape rules refuse, with the node's name, graphs that would trap inside a kernel.
final class ShapeCheckingTests: XCTestCase {
  func model(_ sequence: [(String, Layer)], input: [Int]) throws -> Model {
    try Model(architecture: "t", inputShape: input, classCount: 3, sequence: sequence)
  }

  func testValidGraphShapesMatchARealForwardPass() throws {
    var g = SeededGenerator(seed: 3)
    let m = try model(
      [
        ("conv", Conv2d(inChannels: 1, outChannels: 2, kernel: 3, padding: 1, generator: &g)),
        ("pool", Pool2d(.max, geometry: WindowGeometry(kernel: [2, 2], stride: [2, 2]))),
        ("flat", Function(.flatten(startAxis: 1))), ("fc", Linear(inputs: 32, outputs: 3, generator: &g)),
      ], input: [1, 8, 8])
    let checked = try m.checkShapes()
    for (name, shape) in m.outputShapes() { XCTAssertEqual(checked[name], shape, name) }
  }

  func testMismatchesNameTheNode() throws {
    var g = SeededGenerator(seed: 3)
    let cases: [([(String, Layer)], [Int], String)] = [
      (
        [("flat", Function(.flatten(startAxis: 0))), ("fc", Linear(inputs: 64, outputs: 3, generator: &g))], [8, 8],
        "flat"
      ),
      (
        [("flat", Function(.flatten(startAxis: 1))), ("fc", Linear(inputs: 63, outputs: 3, generator: &g))], [8, 8],
        "fc"
      ),
      ([("fc", Linear(inputs: 4, outputs: 3, generator: &g))], [1 << 40, 1 << 40], "input"),
      ([("pool", Pool2d(.max, geometry: WindowGeometry(kernel: [9, 9], stride: [1, 1])))], [1, 8, 8], "pool"),
    ]
    for (sequence, input, node) in cases {
      XCTAssertThrowsError(try model(sequence, input: input).checkShapes()) { error in
        XCTAssertTrue("\(error)".contains("node \"\(node)\""), "\(error)")
      }
    }
    XCTAssertThrowsError(try ShapeRules.elements([1 << 62, 4]))
    XCTAssertEqual(try ShapeRules.elements([2, 3, 4]), 24)
  }
}
