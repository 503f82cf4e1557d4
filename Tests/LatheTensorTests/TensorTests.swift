import LatheTensor
import XCTest

final class TensorTests: XCTestCase {
  func testBroadcastAdd() {
    let a = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    let b = Tensor<Float>(shape: [3], scalars: [10, 20, 30])
    XCTAssertEqual((a + b).scalars, [11, 22, 33, 14, 25, 36])
  }
}
