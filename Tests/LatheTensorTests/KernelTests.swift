import CKernels
import LatheTensor
import XCTest

/// The C kernels on their own, against plain loops written here.
final class KernelTests: XCTestCase {
  func naiveProduct(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, transA: Bool, transB: Bool) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
      for j in 0..<n {
        var s: Float = 0
        for p in 0..<k { s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]) }
        c[i * n + j] = s
      }
    }
    return c
  }

  func testBLASAndPortableGEMMAgreeWithPlainLoops() {
    var g = SeededGenerator(seed: 3)
    for (m, n, k) in [(1, 300, 784), (7, 3, 5), (33, 17, 65), (64, 64, 64)] {
      for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
        let a = (0..<(m * k)).map { _ in g.nextUniform() - 0.5 }
        let b = (0..<(k * n)).map { _ in g.nextUniform() - 0.5 }
        let expected = naiveProduct(a, b, m: m, n: n, k: k, transA: transA, transB: transB)
        for portable in [false, true] {
          var c = [Float](repeating: 9, count: m * n)
          let gemm = portable ? lk_sgemm_portable : lk_sgemm
          gemm(
            transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), 1, a, Int32(transA ? m : k), b,
            Int32(transB ? k : n), 0, &c, Int32(n))
          let worst = zip(c, expected).map { abs($0 - $1) }.max() ?? 0
          XCTAssertLessThan(worst, 1e-4, "m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB) portable=\(portable)")
        }
      }
    }
  }

  func testBLASBackendIsNamed() {
    let name = String(cString: lk_sgemm_backend())
    XCTAssertTrue(name.hasPrefix("openblas-") || name == "portable", name)
  }
}
