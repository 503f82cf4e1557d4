import CKernels
import LatheTensor
import LatheTestSupport
import XCTest

/// The packed-weight product (packed_gemm.c) on every ISA path, against plain loops in Double.
final class KernelPackedGEMMTests: XCTestCase {
  private func expected(_ x: [Float], _ w: [Float], _ bias: [Float]?, m: Int, n: Int, k: Int) -> [Double] {
    var y = [Double](repeating: 0, count: m * n)
    for r in 0..<m {
      for j in 0..<n {
        var s = Double(bias?[j] ?? 0)
        for i in 0..<k { s += Double(x[r * k + i]) * Double(w[j * k + i]) }
        y[r * n + j] = s
      }
    }
    return y
  }

  private func packed(_ w: [Float], n: Int, k: Int) -> [Float] {
    var p = [Float](repeating: .nan, count: lk_sgemm_packed_floats(Int32(n), Int32(k)))
    lk_sgemm_pack(Int32(n), Int32(k), w, &p)
    return p
  }

  /// Row counts around the 6-row tile, output counts around the 16- and 32-wide panels (the
  /// last panel padded), with and without a bias; a product large enough to split over threads.
  func testEveryPathMatchesPlainLoops() {
    var g = SeededGenerator(seed: 11)
    let shapes = [
      (1, 1, 1), (1, 16, 7), (2, 17, 33), (5, 31, 64), (6, 32, 5), (7, 33, 100), (13, 48, 384),
      (64, 100, 130), (9, 1536, 384),
    ]
    for (m, n, k) in shapes {
      let x = g.floats(m * k, -1...1)
      let w = g.floats(n * k, -1...1)
      let bias = g.floats(n, -1...1)
      let p = packed(w, n: n, k: k)
      for withBias in [false, true] {
        let want = expected(x, w, withBias ? bias : nil, m: m, n: n, k: k)
        forEachKernelPath { _, path in
          // Rows padded past n hold a sentinel: the kernel must write only n columns.
          let ldy = n + 3
          var y = [Float](repeating: 7777, count: m * ldy)
          withBias
            ? lk_sgemm_packed(Int32(m), Int32(n), Int32(k), x, Int32(k), p, bias, &y, Int32(ldy))
            : lk_sgemm_packed(Int32(m), Int32(n), Int32(k), x, Int32(k), p, nil, &y, Int32(ldy))
          var worst = 0.0
          for r in 0..<m {
            for j in 0..<n { worst = max(worst, abs(Double(y[r * ldy + j]) - want[r * n + j])) }
            for j in n..<ldy { XCTAssertEqual(y[r * ldy + j], 7777, "\(path) m=\(m) n=\(n) wrote past column n") }
          }
          XCTAssertLessThan(
            worst, 1e-4 * Double(k).squareRoot() + 1e-5, "\(path) m=\(m) n=\(n) k=\(k) bias=\(withBias)")
        }
      }
    }
  }

  func testPackingPadsTheLastPanelWithZeros() {
    let (n, k) = (18, 3)
    let w = (0..<(n * k)).map { Float($0 + 1) }
    let p = packed(w, n: n, k: k)
    XCTAssertEqual(p.count, 32 * k)
    // Panel 1, input feature 2: outputs 16 and 17 then zeros.
    let row = Array(p[(16 * k + 2 * 16)..<(16 * k + 3 * 16)])
    XCTAssertEqual(row, [w[16 * k + 2], w[17 * k + 2]] + [Float](repeating: 0, count: 14))
  }
}
