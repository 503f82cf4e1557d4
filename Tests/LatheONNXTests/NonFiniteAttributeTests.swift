import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheONNX

/// Layer attributes that are infinite (an ONNX `Clip` with no upper bound, as MiniLM's) are
/// written to a model file's JSON header, which has no infinities, and read back as floats.
final class NonFiniteAttributeTests: XCTestCase {
  func testClipWithInfiniteBoundsSavesAndReopensWithTheSameOutputs() throws {
    let model = try Model(
      architecture: "clips", inputShape: [4], classCount: 0,
      sequence: [
        ("floor", ONNXOp(.clip(min: -1, max: .infinity))), ("ceiling", ONNXOp(.clip(min: -.infinity, max: 0.5))),
      ])
    let x = Tensor<Float>(shape: [2, 4], scalars: [-3, -0.5, 0.25, 9, 1e30, -1e30, 0.75, -1])
    let y = Tensor<Float>(shape: [2, 4], scalars: x.scalars.map { min(max($0, -1), 0.5) })
    XCTAssertEqual(model.predict(x).scalars, y.scalars)
    let back = try savedAndReopened(model, x, expecting: y)
    XCTAssertEqual(back.nodes[0].layer.spec.attributes["max"], .float(.infinity))
    XCTAssertEqual(back.nodes[1].layer.spec.attributes["min"], .float(-.infinity))
  }
}
