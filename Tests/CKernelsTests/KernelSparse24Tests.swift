import CKernels
import LatheTensor
import LatheTestSupport
import XCTest

/// The 2:4 semi-structured product (sparse24.c) on every ISA path, against the dense product of
/// the same weight in Double and against the portable path.
final class KernelSparse24Tests: XCTestCase {
  /// A random 2:4 weight: kept values [n][k/2], positions [n][k/4] (p0 | p1 << 2, distinct, in
  /// either order), and the dense [n, k] weight they stand for.
  private func randomWeight(n: Int, k: Int, _ g: inout SeededGenerator) -> (
    values: [Float], positions: [UInt8], dense: [Float]
  ) {
    var values = [Float](repeating: 0, count: n * k / 2)
    var positions = [UInt8](repeating: 0, count: n * k / 4)
    var dense = [Float](repeating: 0, count: n * k)
    for row in 0..<n {
      for b in 0..<(k / 4) {
        let p0 = Int.random(in: 0...3, using: &g)
        var p1 = Int.random(in: 0...2, using: &g)
        if p1 >= p0 { p1 += 1 }
        let e = row * (k / 4) + b
        positions[e] = UInt8(p0 | p1 << 2)
        values[2 * e] = Float.random(in: -1...1, using: &g)
        values[2 * e + 1] = Float.random(in: -1...1, using: &g)
        dense[row * k + 4 * b + p0] = values[2 * e]
        dense[row * k + 4 * b + p1] = values[2 * e + 1]
      }
    }
    return (values, positions, dense)
  }

  private func pack(_ values: [Float], _ positions: [UInt8], n: Int, k: Int) -> [UInt8] {
    var packed = [UInt8](repeating: 0xAA, count: lk_sp24_packed_bytes(Int32(n), Int32(k)))
    packed.withUnsafeMutableBytes { lk_sp24_pack(Int32(n), Int32(k), values, positions, $0.baseAddress!) }
    return packed
  }

  /// Odd output counts (a group of 16 partly filled), inputs that end inside a chunk of 32,
  /// batch 1 to 9 (tiles of 1, 2 and 4 rows and their remainders), with and without a bias,
  /// and one product large enough to split over threads.
  func testEveryPathMatchesTheDenseProductAndPortable() {
    var g = SeededGenerator(seed: 24)
    let shapes = [
      (1, 1, 4), (1, 5, 8), (2, 17, 28), (3, 16, 36), (4, 33, 100), (5, 31, 64), (7, 48, 260), (9, 100, 132),
      (1, 1024, 256), (8, 2048, 1024),
    ]
    for (m, n, k) in shapes {
      let (values, positions, dense) = randomWeight(n: n, k: k, &g)
      let packed = pack(values, positions, n: n, k: k)
      let x = g.floats(m * k, -1...1)
      let bias = g.floats(n, -1...1)
      for withBias in [false, true] {
        var want = [Double](repeating: 0, count: m * n)
        for r in 0..<m {
          for j in 0..<n {
            var s = withBias ? Double(bias[j]) : 0
            for i in 0..<k { s += Double(x[r * k + i]) * Double(dense[j * k + i]) }
            want[r * n + j] = s
          }
        }
        var portable: [Float] = []
        forEachKernelPath { isa, path in
          let ldy = n + 3
          var y = [Float](repeating: 7777, count: m * ldy)
          packed.withUnsafeBytes { p in
            lk_sp24_gemm(
              Int32(m), Int32(n), Int32(k), x, Int32(k), p.baseAddress!, withBias ? bias : nil, &y, Int32(ldy))
          }
          var worst = 0.0
          for r in 0..<m {
            for j in 0..<n { worst = max(worst, abs(Double(y[r * ldy + j]) - want[r * n + j])) }
            for j in n..<ldy { XCTAssertEqual(y[r * ldy + j], 7777, "\(path) m=\(m) n=\(n) wrote past column n") }
          }
          XCTAssertLessThan(worst, 1e-4 * Double(k).squareRoot() + 1e-5, "\(path) m=\(m) n=\(n) k=\(k)")
          if isa == LK_ISA_PORTABLE {
            portable = y
          } else {
            for i in y.indices {
              XCTAssertEqual(y[i], portable[i], accuracy: 2e-5 * Float(k / 4 + 1), "\(path) against portable at \(i)")
            }
          }
        }
      }
    }
  }

  /// Each position code selects its own input: a weight of ones at one (p0, p1) pair reads
  /// exactly x[4b + p0] + x[4b + p1] on every path.
  func testEveryPositionPairSelectsItsInputs() {
    let k = 8
    let x: [Float] = [1, 10, 100, 1000, 2, 20, 200, 2000]
    for p0 in 0..<4 {
      for p1 in 0..<4 where p1 != p0 {
        let positions = [UInt8](repeating: UInt8(p0 | p1 << 2), count: 2)
        let packed = pack([1, 1, 1, 1], positions, n: 1, k: k)
        forEachKernelPath { _, path in
          var y: [Float] = [0]
          packed.withUnsafeBytes { lk_sp24_gemm(1, 1, Int32(k), x, Int32(k), $0.baseAddress!, nil, &y, 1) }
          XCTAssertEqual(y[0], x[p0] + x[p1] + x[4 + p0] + x[4 + p1], "\(path) positions \(p0), \(p1)")
        }
      }
    }
  }
}
