import CKernels
import LatheTensor
import XCTest

@testable import LatheCompress

/// lk_wq_gemm_f32 and the group-quantized weight storage: packing, tails, every ISA path.
final class QuantWeightOnlyKernelTests: XCTestCase {
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
            withOptionalPointer(bias.map { Tensor(shape: [$0.count], scalars: $0) }) { b in
              offsets.withUnsafeBufferPointer { o in
                lk_wq_gemm_f32(
                  Int32(m), Int32(n), Int32(k), Int32(bits), Int32(group), a, aScale, packed, wScale,
                  precomputed ? o.baseAddress : nil, b, &y, Int32(n))
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

  func testNibblePackingRoundTripsExactly() {
    var g = SeededGenerator(seed: 3)
    for columns in [1, 2, 7, 64] {
      let values = (0..<(3 * columns)).map { _ in Int8(Int.random(in: -8...7, using: &g)) }
      let bytes = GroupQuantizedWeights.packNibbles(values, rows: 3, columns: columns)
      XCTAssertEqual(bytes.count, 3 * ((columns + 1) / 2))
      XCTAssertEqual(GroupQuantizedWeights.unpackNibbles(bytes, rows: 3, columns: columns), values)
    }
    // Documented order: element 0 in the low nibble, element 1 in the high one, as q + 8.
    XCTAssertEqual(GroupQuantizedWeights.packNibbles([-8, 7, 1], rows: 1, columns: 3), [0xF0, 0x89])
  }

  func testQuantizedWeightsStayWithinHalfAStepOfFloat() {
    var g = SeededGenerator(seed: 11)
    let weight = Tensor<Float>(shape: [6, 100], scalars: g.floats(600, -0.5...0.5))
    for bits in [8, 4] {
      let q = GroupQuantizedWeights(quantizing: weight, bits: bits, groupSize: 32)
      XCTAssertEqual(q.groups, 4)
      let back = q.dequantized().scalars
      for r in 0..<6 {
        for c in 0..<100 {
          let scale = q.scales[r * 4 + c / 32]
          XCTAssertLessThanOrEqual(abs(back[r * 100 + c] - weight.scalars[r * 100 + c]), scale / 2 * 1.0001)
        }
      }
      // File form round trip: the same levels come back.
      let restored = try! GroupQuantizedWeights.restore(
        from: Dictionary(uniqueKeysWithValues: q.storedTensors), rows: 6, columns: 100, bits: bits, groupSize: 32,
        node: "fc")
      XCTAssertEqual(restored.values, q.values)
      XCTAssertEqual(restored.scales, q.scales)
    }
  }

  func testLayerOutputIsCloseToFloatAndEqualAcrossPathsAtBatch1And256() {
    var g = SeededGenerator(seed: 5)
    let (n, k) = (40, 300)
    let weight = Tensor<Float>(shape: [n, k], scalars: g.floats(n * k, -0.2...0.2))
    let bias = Tensor<Float>(shape: [n], scalars: g.floats(n, -0.1...0.1))
    for batch in [1, 256] {
      let x = Tensor<Float>(shape: [batch, k], scalars: g.floats(batch * k, 0...1))
      let exact = x.matmul(weight, transposeOther: true).scalars.enumerated().map { $1 + bias.scalars[$0 % n] }
      let scale = exact.map(abs).max()!
      for (bits, tolerance) in [(8, Float(0.01)), (4, Float(0.08))] {
        let layer = WeightOnlyLinear(
          weights: GroupQuantizedWeights(quantizing: weight, bits: bits, groupSize: 32), bias: bias)
        var context = ForwardContext.inference
        var outputs: [[Float]] = []
        forEachKernelPath { _, _ in outputs.append(layer.forward([Variable(x)], context: &context).value.scalars) }
        for y in outputs {
          let worst = zip(y, exact).map { abs($0 - $1) }.max()!
          XCTAssertLessThan(worst / scale, tolerance, "int\(bits) batch \(batch): relative error \(worst / scale)")
          for (a, b) in zip(y, outputs[0]) { XCTAssertEqual(a, b, accuracy: 1e-4 * scale) }
        }
      }
    }
  }
}
