import CKernels
import LatheTensor
import LatheTestSupport
import XCTest

/// Quantize, dequantize and min/max on every path, against the documented formula.
final class KernelQuantizeTests: XCTestCase {
  static let counts = [0, 1, 7, 8, 15, 16, 17, 33, 1000]

  /// round-half-even of x * (1/scale), as the header documents.
  func rounded(_ x: Float, _ inverse: Float) -> Int {
    let t = min(max(x * inverse, -512), 512)
    return Int(t.rounded(.toNearestOrEven))
  }

  func inputs(_ count: Int, _ rng: inout SeededGenerator) -> [Float] {
    var x = rng.floats(count, -3...3)
    // Exact ties (0.5 and 1.5 steps of 0.25), huge values and the exact range ends.
    let specials: [Float] = [0.125, 0.375, -0.125, -0.375, 1e30, -1e30, 0, 63.75, -64]
    for (i, s) in specials.enumerated() where i < count { x[i] = s }
    return x
  }

  func testQuantizeU8AndS8MatchTheFormulaOnEveryPath() {
    var rng = SeededGenerator(seed: 3)
    let scale: Float = 0.25
    for count in Self.counts {
      let x = inputs(count, &rng)
      forEachKernelPath { _, path in
        for zp: Int32 in [0, 1, 128, 255] {
          var q = [UInt8](repeating: 0, count: count)
          lk_quantize_u8(x, count, scale, zp, &q)
          let expected = x.map { UInt8(min(max(rounded($0, 1 / scale) + Int(zp), 0), 255)) }
          XCTAssertEqual(q, expected, "\(path) u8 count \(count) zp \(zp)")
        }
        var s = [Int8](repeating: 0, count: count)
        lk_quantize_s8(x, count, scale, &s)
        XCTAssertEqual(s, x.map { Int8(min(max(rounded($0, 1 / scale), -127), 127)) }, "\(path) s8 count \(count)")
      }
    }
  }

  func testDequantizeInvertsQuantizeWithinHalfAStep() {
    var rng = SeededGenerator(seed: 4)
    let x = rng.floats(100, -1...1)
    let scale: Float = 2.0 / 255
    var q = [UInt8](repeating: 0, count: x.count)
    lk_quantize_u8(x, x.count, scale, 128, &q)
    var back = [Float](repeating: 0, count: x.count)
    lk_dequantize_u8(q, q.count, scale, 128, &back)
    for i in 0..<x.count { XCTAssertEqual(back[i], x[i], accuracy: scale / 2 + 1e-6) }
    var s = [Int8](repeating: 0, count: x.count)
    lk_quantize_s8(x, x.count, 1.0 / 127, &s)
    lk_dequantize_s8(s, s.count, 1.0 / 127, &back)
    for i in 0..<x.count { XCTAssertEqual(back[i], x[i], accuracy: 0.5 / 127 + 1e-6) }
  }

  func testMinMaxOnEveryPath() {
    var rng = SeededGenerator(seed: 5)
    for count in Self.counts where count > 0 {
      let x = rng.floats(count, -100...100)
      forEachKernelPath { _, path in
        var lo: Float = 0
        var hi: Float = 0
        lk_minmax_f32(x, count, &lo, &hi)
        XCTAssertEqual(lo, x.min()!, "\(path) min of \(count)")
        XCTAssertEqual(hi, x.max()!, "\(path) max of \(count)")
      }
    }
    var lo: Float = 1
    var hi: Float = 1
    lk_minmax_f32(nil, 0, &lo, &hi)
    XCTAssertEqual([lo, hi], [0, 0])
  }
}
