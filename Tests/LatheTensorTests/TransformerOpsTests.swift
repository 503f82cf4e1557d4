import Foundation
import LatheTensor
import XCTest

/// The transformer's ops: attention (multi-head, grouped-query, causal, masked, continuing a
/// cache), layer and RMS normalisation, token lookup and SiLU, each against finite differences
/// and against a plain-loop reference.
final class TransformerOpsTests: XCTestCase {
  /// softmax(q·kᵀ·scale + mask)·v head by head with plain loops, the masks spelled out.
  static func naiveAttention(
    _ q: Tensor<Float>, _ k: Tensor<Float>, _ v: Tensor<Float>, heads: Int, kvHeads: Int, causal: Bool,
    keyMask: Tensor<Float>? = nil
  ) -> Tensor<Float> {
    let (batch, queries, keys) = (q.shape[0], q.shape[1], k.shape[1])
    let size = q.shape[2] / heads
    let (qs, ks, vs) = (q.scalars, k.scalars, v.scalars)
    var out = [Float](repeating: 0, count: q.count)
    for b in 0..<batch {
      for h in 0..<heads {
        let g = h / (heads / kvHeads)
        for i in 0..<queries {
          var scores = [Double](repeating: -.infinity, count: keys)
          for j in 0..<keys {
            if causal && j > i + keys - queries { continue }
            if let keyMask, keyMask[b, j] == 0 { continue }
            var dot = 0.0
            for d in 0..<size {
              dot +=
                Double(qs[(b * queries + i) * heads * size + h * size + d])
                * Double(ks[(b * keys + j) * kvHeads * size + g * size + d])
            }
            scores[j] = dot / Double(size).squareRoot()
          }
          let top = scores.max()!
          guard top > -.infinity else { continue }
          let weights = scores.map { Foundation.exp($0 - top) }
          let total = weights.reduce(0, +)
          for d in 0..<size {
            var sum = 0.0
            for j in 0..<keys { sum += weights[j] / total * Double(vs[(b * keys + j) * kvHeads * size + g * size + d]) }
            out[(b * queries + i) * heads * size + h * size + d] = Float(sum)
          }
        }
      }
    }
    return Tensor(shape: q.shape, scalars: out)
  }

  func testAttentionMatchesPlainLoops() {
    // (heads, kvHeads, causal, queries, keys): plain, grouped-query, causal, a continued cache.
    for (heads, kvHeads, causal, queries, keys) in [
      (2, 2, false, 3, 3), (4, 2, true, 5, 5), (4, 1, true, 2, 6), (3, 3, false, 4, 7),
    ] {
      let size = 3
      let q = TestData.uniform([2, queries, heads * size], seed: 1, low: -2, high: 2)
      let k = TestData.uniform([2, keys, kvHeads * size], seed: 2, low: -2, high: 2)
      let v = TestData.uniform([2, keys, kvHeads * size], seed: 3)
      let y = Variable.attention(
        query: Variable(q), key: Variable(k), value: Variable(v),
        geometry: AttentionGeometry(heads: heads, kvHeads: kvHeads, causal: causal)
      ).value
      let expected = Self.naiveAttention(q, k, v, heads: heads, kvHeads: kvHeads, causal: causal)
      assertClose(y, expected, accuracy: 1e-5, "heads \(heads)/\(kvHeads) causal \(causal) \(queries)x\(keys)")
    }
  }

  func testAttentionKeyMaskHidesPaddingAndAnEmptyRowIsZero() {
    let q = TestData.uniform([2, 3, 4], seed: 10)
    let k = TestData.uniform([2, 3, 4], seed: 11)
    let v = TestData.uniform([2, 3, 4], seed: 12)
    let mask = Tensor<Float>(shape: [2, 3], scalars: [1, 1, 0, 0, 0, 0])
    let y = Variable.attention(
      query: Variable(q), key: Variable(k), value: Variable(v), geometry: AttentionGeometry(heads: 2, causal: false),
      keyMask: mask
    ).value
    assertClose(y, Self.naiveAttention(q, k, v, heads: 2, kvHeads: 2, causal: false, keyMask: mask), accuracy: 1e-5)
    // The second sequence is all padding: no key to attend to, so zeros, not an average.
    XCTAssertEqual(y.sliced(axis: 0, 1..<2).scalars, [Float](repeating: 0, count: 12))
  }

  func testAttentionGradients() {
    for (heads, kvHeads, causal, queries, keys) in [(2, 2, false, 3, 3), (2, 1, true, 3, 3), (2, 1, true, 2, 4)] {
      let size = 2
      let q = TestData.uniform([2, queries, heads * size], seed: 20)
      let k = TestData.uniform([2, keys, kvHeads * size], seed: 21)
      let v = TestData.uniform([2, keys, kvHeads * size], seed: 22)
      checkGradients([q, k, v]) { x in
        Variable.attention(
          query: x[0], key: x[1], value: x[2],
          geometry: AttentionGeometry(heads: heads, kvHeads: kvHeads, causal: causal))
      }
    }
  }

  func testLayerNormAndRMSNormGradients() {
    let x = TestData.uniform([2, 3, 5], seed: 30, low: -2, high: 2)
    let gamma = TestData.uniform([5], seed: 31, low: 0.5, high: 1.5)
    let beta = TestData.uniform([5], seed: 32)
    checkGradients([x, gamma, beta]) { v in v[0].layerNorm(gamma: v[1], beta: v[2], epsilon: 1e-5) }
    checkGradients([x, gamma]) { v in v[0].rmsNorm(gamma: v[1], epsilon: 1e-5) }
  }

  func testLayerNormAndRMSNormValues() {
    let x = Tensor<Float>(shape: [2, 4], scalars: [1, 2, 3, 4, -2, 0, 2, 8])
    let ones = Variable(Tensor(repeating: 1, shape: [4]))
    let layer = Variable(x).layerNorm(gamma: ones, beta: nil, epsilon: 0).value
    // Row 1: mean 2.5, variance 1.25.
    let s = 1 / Float(1.25).squareRoot()
    assertClose(layer.sliced(axis: 0, 0..<1), Tensor(shape: [1, 4], scalars: [-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s]))
    let rms = Variable(x).rmsNorm(gamma: ones, epsilon: 0).value
    // Row 2: mean square (4 + 0 + 4 + 64) / 4 = 18.
    let r = 1 / Float(18).squareRoot()
    assertClose(rms.sliced(axis: 0, 1..<2), Tensor(shape: [1, 4], scalars: [-2 * r, 0, 2 * r, 8 * r]))
  }

  func testGatherRowsAndItsGradientAddRepeats() {
    let table = TestData.uniform([5, 3], seed: 40)
    let ids = Tensor<Float>(shape: [2, 3], scalars: [4, 0, 4, 1, 1, 2])
    let y = Variable.gatherRows(Variable(table), ids: ids).value
    XCTAssertEqual(y.shape, [2, 3, 3])
    XCTAssertEqual(Array(y.scalars[0..<3]), Array(table.scalars[12..<15]))
    checkGradients([table]) { v in Variable.gatherRows(v[0], ids: ids) }
  }

  func testSiLUGradient() {
    checkGradients([TestData.uniform([3, 4], seed: 50, low: -3, high: 3)]) { $0[0].silu() }
  }

  func testWarmupCosineScheduleRisesThenFallsWithinEpochs() {
    let s = LearningRateSchedule.warmupCosine(warmup: 0.1, minimum: 0)
    let early = s.rate(base: 1, epoch: 0, totalEpochs: 1, within: 0.01)
    let peak = s.rate(base: 1, epoch: 0, totalEpochs: 1, within: 0.1)
    let middle = s.rate(base: 1, epoch: 0, totalEpochs: 1, within: 0.55)
    let late = s.rate(base: 1, epoch: 0, totalEpochs: 1, within: 0.99)
    XCTAssertLessThan(early, 0.2)
    XCTAssertEqual(peak, 1, accuracy: 1e-3)
    XCTAssertEqual(middle, 0.5, accuracy: 1e-3)
    XCTAssertLessThan(late, 0.01)
  }
}
