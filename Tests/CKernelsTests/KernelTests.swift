import CKernels
import LatheTensor
import XCTest

/// The fp32 GEMM on its own, against plain loops written here.
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

  /// Products large enough to be split over the thread pool, by rows (m >= n) and by columns,
  /// with row counts that do not divide evenly, and with beta accumulating into C.
  func testSplitGEMMMatchesPlainLoops() {
    var g = SeededGenerator(seed: 4)
    for (m, n, k) in [(130, 37, 90), (37, 130, 90), (256, 300, 50)] {
      for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
        let a = (0..<(m * k)).map { _ in g.nextUniform() - 0.5 }
        let b = (0..<(k * n)).map { _ in g.nextUniform() - 0.5 }
        let start = (0..<(m * n)).map { _ in g.nextUniform() }
        let product = naiveProduct(a, b, m: m, n: n, k: k, transA: transA, transB: transB)
        var c = start
        lk_sgemm(
          transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), 2, a, Int32(transA ? m : k), b,
          Int32(transB ? k : n), 0.5, &c, Int32(n))
        let worst = (0..<(m * n)).map { abs(c[$0] - (2 * product[$0] + 0.5 * start[$0])) }.max() ?? 0
        XCTAssertLessThan(worst, 1e-3, "m=\(m) n=\(n) k=\(k) tA=\(transA) tB=\(transB)")
      }
    }
  }

  func testBLASBackendIsNamed() {
    let name = String(cString: lk_sgemm_backend())
    XCTAssertTrue(name.hasPrefix("openblas-") || name == "portable", name)
  }
}

/// Subnormal weights are flushed (cpu.c): a product through them equals the product through
/// zeros exactly, on the calling thread and on the pool's.
final class SubnormalTests: XCTestCase {
  func testSubnormalWeightsActAsZero() {
    lk_flush_subnormals()
    // 128³ multiply-adds: at LK_GEMM_SPLIT_WORK, so the product is split over the pool's threads.
    let (m, n, k) = (128, 128, 128)
    var g = SeededGenerator(seed: 12)
    let a = (0..<(m * k)).map { _ in g.nextUniform() }
    // Every weight subnormal: without flushing, each output would be a nonzero subnormal sum.
    let tiny = [Float](repeating: Float(bitPattern: 0x0000_0F00), count: k * n)  // ~5e-42
    var y = [Float](repeating: .nan, count: m * n)
    lk_sgemm(0, 0, Int32(m), Int32(n), Int32(k), 1, a, Int32(k), tiny, Int32(n), 0, &y, Int32(n))
    XCTAssertEqual(y.filter { $0 != 0 }.count, 0, "subnormal weights act as zero on every thread")
    XCTAssertEqual(tiny[0] * 1.5, 0, "the calling thread flushes subnormals")
  }
}
