import CKernels
import LatheTensor
import LatheTestSupport
import XCTest

/// lk_wq_gemm_f32 (weight-only group-quantized GEMM): packing, partial groups, every ISA path.
final class KernelWeightOnlyGemmTests: XCTestCase {
  /// y = a_scale · Σ_g w_scale[g] · (exact integer dot of group g) + bias, in Double.
  private func reference(
    a: [Int8], aScale: [Float], w: [Int8], wScale: [Float], bias: [Float]?, m: Int, n: Int, k: Int, group: Int
  ) -> [Double] {
    let kp = Int(lk_wq_padded(Int32(k)))
    let groups = (k + group - 1) / group
    var y = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
      for j in 0..<n {
        var total = 0.0
        for g in 0..<groups {
          var dot = 0
          for c in (g * group)..<min((g + 1) * group, k) { dot += Int(a[i * kp + c]) * Int(w[j * k + c]) }
          total += Double(dot) * Double(wScale[j * groups + g])
        }
        y[i * n + j] = total * Double(aScale[i]) + Double(bias?[j] ?? 0)
      }
    }
    return y
  }

  func testKernelMatchesReferenceOnEveryPathWithPartialGroups() {
    var g = SeededGenerator(seed: 7)
    // k not a multiple of the group (a short last group) nor of 32 (zero padding), and exact.
    // m of 2 and more also runs the AVX-512 two-row tile (pairs, then a leftover row).
    let shapes = [(1, 5, 784, 32), (3, 17, 100, 64), (2, 4, 31, 32), (4, 9, 256, 128), (1, 3, 1, 32), (7, 12, 96, 32)]
    for (m, n, k, group) in shapes {
      for bits in [8, 4] {
        let top = bits == 8 ? 127 : 8
        let w = (0..<(n * k)).map { _ in Int8(Int.random(in: -top...(top - (bits == 8 ? 0 : 1)), using: &g)) }
        let groups = (k + group - 1) / group
        let wScale = g.floats(n * groups, 0.001...0.1)
        let bias: [Float]? = bits == 8 ? g.floats(n, -1...1) : nil
        let x = g.floats(m * k, -3...3)
        let kp = Int(lk_wq_padded(Int32(k)))
        var packed = [UInt8](repeating: 0xAA, count: lk_wq_row_bytes(Int32(k), Int32(bits), Int32(group)) * n)
        packed.withUnsafeMutableBytes { lk_wq_pack(w, Int32(n), Int32(k), Int32(bits), Int32(group), $0.baseAddress!) }
        var a = [Int8](repeating: 0x55, count: m * kp)
        var aScale = [Float](repeating: 0, count: m)
        lk_wq_quantize_rows(x, Int32(m), Int32(k), &a, &aScale)
        for i in 0..<m {
          XCTAssertTrue(a[(i * kp + k)..<((i + 1) * kp)].allSatisfy { $0 == 0 }, "padding must be zero")
          let bound = x[(i * k)..<((i + 1) * k)].map(abs).max()!
          XCTAssertEqual(aScale[i], bound / 127, accuracy: bound * 1e-6)
        }
        let expected = reference(a: a, aScale: aScale, w: w, wScale: wScale, bias: bias, m: m, n: n, k: k, group: group)
        var offsets = [Float](repeating: 0, count: n)
        lk_wq_row_offsets(packed, Int32(n), Int32(k), Int32(bits), Int32(group), wScale, &offsets)
        for precomputed in [false, true] {
          forEachKernelPath { _, name in
            var y = [Float](repeating: .nan, count: m * n)
            (bias ?? []).withUnsafeBufferPointer { b in
              offsets.withUnsafeBufferPointer { o in
                lk_wq_gemm_f32(
                  Int32(m), Int32(n), Int32(k), Int32(bits), Int32(group), a, aScale, packed, wScale,
                  precomputed ? o.baseAddress : nil, bias == nil ? nil : b.baseAddress, &y, Int32(n))
              }
            }
            for (got, want) in zip(y, expected) {
              XCTAssertEqual(
                Double(got), want, accuracy: 1e-4 * max(1, abs(want)),
                "\(name) int\(bits) m\(m) n\(n) k\(k) g\(group) offsets given \(precomputed)")
            }
          }
        }
      }
    }
  }
}
