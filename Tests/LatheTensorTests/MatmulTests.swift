import LatheTensor
import XCTest

/// Matrix products through the BLAS against a naive triple loop.
final class MatmulTests: XCTestCase {
  func testPlainProducts() {
    for (m, k, n) in [(7, 5, 3), (1, 4, 6), (5, 1, 2), (3, 3, 3), (2, 9, 1)] {
      let a = TestData.uniform([m, k], seed: UInt64(1600 + m * 100 + k * 10 + n))
      let b = TestData.uniform([k, n], seed: UInt64(1700 + m * 100 + k * 10 + n))
      assertClose(a.matmul(b), NaiveReference.matmul(a, b), "\(m)x\(k) · \(k)x\(n)")
    }
  }

  func testTransposeFlags() {
    let a = TestData.uniform([7, 5], seed: 1800)
    let b = TestData.uniform([5, 3], seed: 1801)
    let expected = NaiveReference.matmul(a, b)
    let at = NaiveReference.transpose(a)  // [5, 7]
    let bt = NaiveReference.transpose(b)  // [3, 5]
    assertClose(at.matmul(b, transposeSelf: true), expected)
    assertClose(a.matmul(bt, transposeOther: true), expected)
    assertClose(at.matmul(bt, transposeSelf: true, transposeOther: true), expected)
  }

  func testViewsAsOperands() {
    let a = TestData.uniform([5, 7], seed: 1802)
    let b = TestData.uniform([3, 5], seed: 1803)
    let expected = NaiveReference.matmul(NaiveReference.transpose(a), NaiveReference.transpose(b))
    assertClose(a.transposed.matmul(b.transposed), expected)
    let wide = TestData.uniform([7, 8], seed: 1804)
    let slice = wide.sliced(axis: 1, 2..<7)  // [7, 5], rows not dense
    let c = TestData.uniform([5, 3], seed: 1805)
    assertClose(slice.matmul(c), NaiveReference.matmul(slice.contiguous(), c))
    let rows = wide.sliced(axis: 0, 3..<5)  // dense rows at an offset
    let d = TestData.uniform([8, 2], seed: 1806)
    assertClose(rows.matmul(d), NaiveReference.matmul(rows.contiguous(), d))
  }

  func testBatchedProduct() {
    let a = TestData.uniform([3, 4, 5], seed: 1807)
    let b = TestData.uniform([5, 2], seed: 1808)
    let y = a.matmul(b)
    XCTAssertEqual(y.shape, [3, 4, 2])
    for i in 0..<3 {
      let expected = NaiveReference.matmul(a.sliced(axis: 0, i..<(i + 1)).reshaped([4, 5]), b)
      assertClose(y.sliced(axis: 0, i..<(i + 1)).reshaped([4, 2]), expected)
    }
  }

  func testEmptyInnerDimension() {
    let y = Tensor<Float>.zeros([3, 0]).matmul(.zeros([0, 2]))
    XCTAssertEqual(y, Tensor.zeros([3, 2]))
  }
}
