import CKernels
import LatheTensor
import LatheTestSupport
import XCTest

/// The int8 GEMM on every supported path against plain loops: exact accumulators, tight float
/// outputs. (Its requantized u8 outputs are what lk_qconv2d_image writes: KernelQConvTests.)
final class KernelQGemmTests: XCTestCase {
  /// (m, n, k): tails in every dimension, k not a multiple of 4, m = 1 (GEMV), LeNet shapes.
  static let shapes: [(Int, Int, Int)] = [
    (1, 1, 1), (1, 3, 17), (3, 17, 3), (1, 300, 784), (3, 300, 784), (17, 64, 65), (64, 65, 64), (65, 17, 3),
    (2, 31, 2), (4, 16, 4), (5, 33, 5), (6, 48, 7), (7, 100, 300), (8, 10, 100), (9, 1, 784), (16, 130, 18),
    (65, 6, 25), (64, 16, 150),
  ]

  /// Σ_k A[i,k] W[j,k] and the column sums, in Int64 so the reference cannot overflow.
  func reference(_ a: [UInt8], _ w: [Int8], m: Int, n: Int, k: Int, lda: Int) -> (acc: [Int64], wsum: [Int64]) {
    var acc = [Int64](repeating: 0, count: m * n)
    var wsum = [Int64](repeating: 0, count: n)
    for j in 0..<n { for p in 0..<k { wsum[j] += Int64(w[j * k + p]) } }
    for i in 0..<m {
      for j in 0..<n {
        var s: Int64 = 0
        for p in 0..<k { s += Int64(a[i * lda + p]) * Int64(w[j * k + p]) }
        acc[i * n + j] = s
      }
    }
    return (acc, wsum)
  }

  /// An output stage that passes accumulators through: zero point 0, scales 1, no bias, so
  /// y = Float(acc), exact while |acc| < 2²⁴.
  func passThrough(n: Int) -> OutputStage {
    OutputStage(aZeroPoint: 0, aScale: 1, wScale: [Float](repeating: 1, count: n), bias: nil, relu: false)
  }

  /// Every path's accumulators for A [m, k] (row stride lda) · Wᵀ against `reference`, through
  /// the pass-through stage (so they must stay below 2²⁴), and nothing written past column n.
  func assertExactOnEveryPath(_ a: [UInt8], _ w: [Int8], m: Int, n: Int, k: Int, lda: Int) {
    let packed = packWeights(w, n: n, k: k)
    let ref = reference(a, w, m: m, n: n, k: k, lda: lda)
    let sums = packed.withUnsafeBytes { p in
      Array(UnsafeBufferPointer(start: lk_qgemm_packed_sums(p.baseAddress!, Int32(n), Int32(k)), count: n))
    }
    XCTAssertEqual(sums.map(Int64.init), ref.wsum, "column sums \(m)x\(n)x\(k)")
    XCTAssertLessThan(ref.acc.map(abs).max()!, 1 << 24, "the float outputs hold these accumulators exactly")
    let identity = passThrough(n: n)
    forEachKernelPath { _, path in
      let ldc = n + 1
      var c = [Float](repeating: -7, count: m * ldc)
      identity.withC { lk_qgemm_f32(Int32(m), Int32(n), Int32(k), a, Int32(lda), packed, $0, &c, Int32(ldc)) }
      for i in 0..<m {
        for j in 0..<n where c[i * ldc + j] != Float(ref.acc[i * n + j]) {
          XCTFail("\(path) \(m)x\(n)x\(k) [\(i),\(j)]: \(c[i * ldc + j]) != \(ref.acc[i * n + j])")
          return
        }
        XCTAssertEqual(c[i * ldc + n], -7, "\(path) \(m)x\(n)x\(k): wrote past column n")
      }
    }
  }

  func testAccumulatorsAreExactOnEveryPath() {
    var rng = SeededGenerator(seed: 1)
    for (m, n, k) in Self.shapes {
      let lda = k + 3  // a row stride wider than k
      assertExactOnEveryPath(rng.bytes(m * lda), rng.signedBytes(n * k), m: m, n: n, k: k, lda: lda)
    }
  }

  /// Every row count the tiles take (blocks of 6 rows on AVX2 and 8 on AVX-512 without VNNI,
  /// each remainder, the GEMV) against every column edge (8-column halves, 16-column panels,
  /// two or four of them at a time) and k tails, then a k past the 2048 that the int16 paths
  /// widen on the stack.
  func testEveryTileShapeIsExact() {
    var rng = SeededGenerator(seed: 3)
    let columnsAndDepths = [(1, 3), (7, 17), (9, 31), (24, 33), (40, 8), (65, 5), (72, 2)]
    var shapes = (1...17).flatMap { m in columnsAndDepths.map { (m, $0.0, $0.1) } }
    shapes += [(1, 20, 2051), (7, 9, 2051), (13, 33, 2050)]
    for (m, n, k) in shapes {
      assertExactOnEveryPath(rng.bytes(m * k), rng.signedBytes(n * k), m: m, n: n, k: k, lda: k)
    }
  }

  /// 255 × 127/-128 over a long k, at every row count of the tiles: any int16 saturation
  /// (vpmaddubsw) would show here. The sums pass 2²⁴, so the float outputs are the
  /// accumulators rounded to float.
  func testExtremeValuesDoNotSaturate() {
    for m in 1...17 {
      let (n, k) = (40, 787)
      let a = [UInt8](repeating: 255, count: m * k)
      var w = [Int8](repeating: 0, count: n * k)
      for j in 0..<n {
        for p in 0..<k { w[j * k + p] = j % 3 == 0 ? -128 : (j % 3 == 1 ? 127 : (p % 2 == 0 ? -128 : 127)) }
      }
      let packed = packWeights(w, n: n, k: k)
      let ref = reference(a, w, m: m, n: n, k: k, lda: k)
      let identity = passThrough(n: n)
      forEachKernelPath { _, path in
        var c = [Float](repeating: 0, count: m * n)
        identity.withC { lk_qgemm_f32(Int32(m), Int32(n), Int32(k), a, Int32(k), packed, $0, &c, Int32(n)) }
        XCTAssertEqual(c, ref.acc.map { Float($0) }, "\(path) m = \(m)")
      }
    }
  }

  func stage(_ rng: inout SeededGenerator, n: Int, perChannel: Bool, bias: Bool, relu: Bool) -> OutputStage {
    let shared = Float.random(in: 0.001...0.02, using: &rng)
    return OutputStage(
      aZeroPoint: Int32.random(in: 0...255, using: &rng), aScale: Float.random(in: 0.005...0.05, using: &rng),
      wScale: perChannel ? rng.floats(n, 0.001...0.02) : [Float](repeating: shared, count: n),
      bias: bias ? rng.floats(n, -2...2) : nil, relu: relu, outScale: Float.random(in: 0.02...0.2, using: &rng),
      outZeroPoint: Int32.random(in: 0...255, using: &rng))
  }

  func testFloatOutputsOnEveryPath() {
    var rng = SeededGenerator(seed: 2)
    for (index, (m, n, k)) in Self.shapes.enumerated() {
      let a = rng.bytes(m * k)
      let w = rng.signedBytes(n * k)
      let packed = packWeights(w, n: n, k: k)
      let ref = reference(a, w, m: m, n: n, k: k, lda: k)
      // Cycle through per-tensor / per-channel, bias or not, ReLU or not.
      let q = stage(&rng, n: n, perChannel: index % 2 == 0, bias: index % 3 != 0, relu: index % 4 < 2)
      forEachKernelPath { _, path in
        let ldy = n + 2
        var y = [Float](repeating: .nan, count: m * ldy)
        q.withC { lk_qgemm_f32(Int32(m), Int32(n), Int32(k), a, Int32(k), packed, $0, &y, Int32(ldy)) }
        var bad = 0
        for i in 0..<m {
          XCTAssertTrue(y[i * ldy + n].isNaN, "\(path): wrote past column n")
          for j in 0..<n {
            let v = q.real(acc: ref.acc[i * n + j], wsum: ref.wsum[j], column: j)
            if abs(Double(y[i * ldy + j]) - v) > 1e-5 * max(1, abs(v)) { bad += 1 }
          }
        }
        XCTAssertEqual(bad, 0, "\(path) \(m)x\(n)x\(k): \(bad) outputs differ")
      }
    }
  }
}
