import LatheTensor
import XCTest

/// Reshape, permute, slice, concatenate, contiguous copies and copy-on-write.
final class TensorMovementTests: XCTestCase {
  /// [2, 3, 4] holding 0, 1, 2, ... so every element names its row-major position.
  let x = Tensor<Float>(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))

  func testReshapeKeepsRowMajorOrder() {
    let y = x.reshaped([4, -1])
    XCTAssertEqual(y.shape, [4, 6])
    XCTAssertEqual(y.scalars, x.scalars)
    XCTAssertEqual(y[1, 0], 6)
    XCTAssertEqual(x.reshaped([24]).reshaped([2, 12])[1, 11], 23)
  }

  func testPermuteValues() {
    let y = x.permuted([2, 0, 1])
    XCTAssertEqual(y.shape, [4, 2, 3])
    for i in 0..<2 {
      for j in 0..<3 {
        for k in 0..<4 { XCTAssertEqual(y[k, i, j], x[i, j, k]) }
      }
    }
    let t = x.transposed
    XCTAssertEqual(t.shape, [2, 4, 3])
    XCTAssertEqual(t[1, 3, 2], x[1, 2, 3])
  }

  func testContiguousOfPermutedView() {
    let y = x.permuted([1, 2, 0])
    XCTAssertFalse(y.isContiguous)
    let dense = y.contiguous()
    XCTAssertTrue(dense.isContiguous)
    var expected: [Float] = []
    for j in 0..<3 {
      for k in 0..<4 {
        for i in 0..<2 { expected.append(Float(i * 12 + j * 4 + k)) }
      }
    }
    XCTAssertEqual(dense.scalars, expected)
    XCTAssertEqual(y.scalars, expected)
    XCTAssertEqual(y.reshaped([12, 2]).scalars, expected)
  }

  func testSliceValuesAndContiguous() {
    let y = x.sliced(axis: 1, 1..<3)
    XCTAssertEqual(y.shape, [2, 2, 4])
    XCTAssertEqual(y.contiguous().scalars, [4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23])
    let stepped = x.sliced(axis: 2, 0..<4, step: 2)
    XCTAssertEqual(stepped.shape, [2, 3, 2])
    XCTAssertEqual(stepped.contiguous().scalars, (0..<12).map { Float($0 * 2) })
    let last = x.sliced(axis: -1, 3..<4)
    XCTAssertEqual(last.scalars, [3, 7, 11, 15, 19, 23])
    // A slice of a permuted view.
    let mixed = x.permuted([2, 1, 0]).sliced(axis: 0, 1..<2)
    XCTAssertEqual(mixed.shape, [1, 3, 2])
    XCTAssertEqual(mixed.contiguous().scalars, [1, 13, 5, 17, 9, 21])
  }

  func testConcatenateValues() {
    let a = Tensor<Float>(shape: [2, 1], scalars: [1, 2])
    let b = Tensor<Float>(shape: [2, 2], scalars: [3, 4, 5, 6])
    XCTAssertEqual(Tensor.concatenate([a, b], axis: 1).scalars, [1, 3, 4, 2, 5, 6])
    XCTAssertEqual(Tensor.concatenate([b, b.sliced(axis: 0, 0..<1)], axis: 0).scalars, [3, 4, 5, 6, 3, 4])
    let parts = Tensor.concatenate([x.sliced(axis: 2, 0..<1), x.sliced(axis: 2, 1..<4)], axis: -1)
    XCTAssertEqual(parts, x)
    // Views as parts are read in their logical order.
    XCTAssertEqual(Tensor.concatenate([b.transposed], axis: 0).scalars, [3, 5, 4, 6])
  }

  func testCopyOnWrite() {
    var copy = x
    copy[0, 0, 0] = 100
    XCTAssertEqual(x[0, 0, 0], 0)
    XCTAssertEqual(copy[0, 0, 0], 100)

    var scaled = x
    scaled.addScaled(x, 2)
    XCTAssertEqual(x.scalars, (0..<24).map(Float.init))
    XCTAssertEqual(scaled.scalars, (0..<24).map { Float($0 * 3) })

    let view = x.sliced(axis: 0, 1..<2)
    var written = view
    written[0, 0, 0] = -1
    XCTAssertEqual(view[0, 0, 0], 12)
    XCTAssertEqual(x[1, 0, 0], 12)

    var masked = x.reshaped([24])
    masked.multiply(by: Tensor(repeating: 0, shape: [24]))
    XCTAssertEqual(x.scalars.reduce(0, +), 276)
  }

  func testSqueezeAndUnsqueeze() {
    let y = x.unsqueezed(axis: 1)
    XCTAssertEqual(y.shape, [2, 1, 3, 4])
    XCTAssertEqual(x.unsqueezed(axis: -1).shape, [2, 3, 4, 1])
    XCTAssertEqual(y.squeezed().shape, [2, 3, 4])
    XCTAssertEqual(y.squeezed().scalars, x.scalars)
  }
}
