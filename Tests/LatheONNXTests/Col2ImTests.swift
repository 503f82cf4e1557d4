import Foundation
import LatheTensor
import XCTest

@testable import LatheONNX

/// Col2Im (`ONNXCol2Im`): columns summed back into images, worked out by hand (overlaps, padding
/// that drops columns, dilation), through the importer; malformed shapes refused; the spec round
/// trip; and the gradient against central differences.
final class Col2ImTests: XCTestCase {
  func col2Im(_ x: Tensor<Float>, image: [Int], block: [Int], _ attributes: [Onnx_AttributeProto] = []) throws
    -> Tensor<Float>
  {
    try ONNXBuild.run(
      [ONNXBuild.node("Col2Im", ["x", "image", "block"], ["y"], name: "c", attributes)],
      [ONNXBuild.int64s("image", image), ONNXBuild.int64s("block", block)], inputs: [("x", x)], opset: 18)
  }

  func testColumnsSumIntoTheImage() throws {
    // Block 2 over length 3: columns [1, 3] and [2, 4] (kernel offset 0 then 1) land on pixels
    // (0, 1) and (1, 2): [1, 2 + 3, 4].
    let overlap = try col2Im(Tensor(shape: [1, 2, 2], scalars: [1, 2, 3, 4]), image: [3], block: [2])
    XCTAssertEqual(overlap.shape, [1, 1, 3])
    XCTAssertEqual(overlap.scalars, [1, 5, 4])
    // One pad each side: four positions starting at −1; offset 0 of the first and offset 1 of
    // the last fall in the padding: [2 + 5, 3 + 6, 4 + 7].
    let padded = try col2Im(
      Tensor(shape: [1, 2, 4], scalars: [1, 2, 3, 4, 5, 6, 7, 8]), image: [3], block: [2], [Attr.ints("pads", [1, 1])])
    XCTAssertEqual(padded.scalars, [7, 9, 11])
    // A 2×2 block dilated by 2 covers a 3×3 image once: its corners.
    let dilated = try col2Im(
      Tensor(shape: [1, 4, 1], scalars: [1, 2, 3, 4]), image: [3, 3], block: [2, 2], [Attr.ints("dilations", [2, 2])])
    XCTAssertEqual(dilated.shape, [1, 1, 3, 3])
    XCTAssertEqual(dilated.scalars, [1, 0, 2, 0, 0, 0, 3, 0, 4])
  }

  func testMalformedShapesAreRefused() {
    XCTAssertThrowsError(try col2Im(Tensor(shape: [1, 2, 3], scalars: [1, 2, 3, 4, 5, 6]), image: [3], block: [2])) {
      XCTAssertTrue("\($0)".contains("block position"), "\($0)")
    }
    XCTAssertThrowsError(try col2Im(Tensor(shape: [1, 3, 2], scalars: [1, 2, 3, 4, 5, 6]), image: [3], block: [2])) {
      XCTAssertTrue("\($0)".contains("[N, C·2, L]"), "\($0)")
    }
    XCTAssertThrowsError(
      try col2Im(Tensor(shape: [1, 2, 2], scalars: [1, 2, 3, 4]), image: [3], block: [2], [Attr.ints("pads", [1])])
    ) { XCTAssertTrue("\($0)".contains("two pads"), "\($0)") }
    let layer = ONNXCol2Im(imageShape: [3], blockShape: [2], dilations: [1], pads: [0, 0], strides: [0])
    XCTAssertThrowsError(try layer.outputShape(for: [[1, 2, 2]]))
  }

  func testSpecRoundTrip() throws {
    let layer = ONNXCol2Im(
      imageShape: [4, 5], blockShape: [2, 3], dilations: [1, 2], pads: [0, 1, 1, 0], strides: [2, 1])
    XCTAssertEqual(try ONNXCol2Im(spec: layer.spec)?.spec, layer.spec)
    XCTAssertEqual(try ONNXLayers().makeLayer(layer.spec)?.spec, layer.spec)
  }
}

extension GradientTests {
  func testCol2ImGradient() {
    // Image 4 × 3, block 2 × 2, stride 2 along the height, a pad on the right: overlaps along
    // the width, columns dropped in the padding.
    let layer = ONNXCol2Im(
      imageShape: [4, 3], blockShape: [2, 2], dilations: [1, 1], pads: [0, 0, 0, 1], strides: [2, 1])
    check([1, 8, 6]) { x in
      var context = ForwardContext(isTraining: true)
      return layer.forward([x], context: &context)
    }
  }
}
