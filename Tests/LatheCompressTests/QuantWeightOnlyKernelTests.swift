import LatheTensor
import LatheTestSupport
import XCTest

@testable import LatheCompress

/// The group-quantized weight storage and WeightOnlyLinear on every ISA path (the kernel
/// lk_wq_gemm_f32 on its own: CKernelsTests' KernelWeightOnlyGemmTests).
final class QuantWeightOnlyKernelTests: XCTestCase {
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
