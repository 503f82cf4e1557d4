import Foundation
import LatheIO
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

  func testBitStreamPackingRoundTripsExactlyAtEveryWidth() {
    var g = SeededGenerator(seed: 4)
    for bits in [2, 3, 5, 6, 7] {
      let half = 1 << (bits - 1)
      for columns in [1, 3, 8, 33] {
        let values = (0..<(3 * columns)).map { _ in Int8(Int.random(in: -half...(half - 1), using: &g)) }
        let bytes = GroupQuantizedWeights.packBits(values, rows: 3, columns: columns, bits: bits)
        XCTAssertEqual(bytes.count, 3 * ((columns * bits + 7) / 8), "int\(bits) \(columns) columns")
        XCTAssertEqual(GroupQuantizedWeights.unpackBits(bytes, rows: 3, columns: columns, bits: bits), values)
      }
    }
    // Documented order: levels as q + 4 in 3 bits, least significant bit first, rows on bytes:
    // -4 → 000, 3 → 111, 0 → 100: bits 000 111 001 (LSB first) = 0b0_0011_1000, 0b0.
    XCTAssertEqual(GroupQuantizedWeights.packBits([-4, 3, 0], rows: 1, columns: 3, bits: 3), [0x38, 0x01])
  }

  func testQuantizedWeightsStayWithinHalfAStepOfFloat() {
    var g = SeededGenerator(seed: 11)
    let weight = Tensor<Float>(shape: [6, 100], scalars: g.floats(600, -0.5...0.5))
    for bits in [8, 7, 5, 4, 3, 2] {
      let q = GroupQuantizedWeights(quantizing: weight, bits: bits, groupSize: 32)
      let top = GroupQuantizedWeights.maxLevel(bits: bits)
      XCTAssertEqual(q.values.map { abs(Int($0)) }.max(), top, "int\(bits) reaches its largest level")
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
      for (bits, tolerance) in [(8, Float(0.01)), (6, Float(0.03)), (4, Float(0.08)), (3, Float(0.3))] {
        let layer = WeightOnlyLinear(
          weights: GroupQuantizedWeights(quantizing: weight, bits: bits, groupSize: 32), bias: bias)
        var context = ForwardContext.inference
        var outputs: [[Float]] = []
        forEachKernelPath { _, _ in outputs.append(layer.forward([Variable(x)], context: &context).value.scalars) }
        for y in outputs {
          let worst = zip(y, exact).map { abs($0 - $1) }.max()!
          XCTAssertLessThan(worst / scale, tolerance, "int\(bits) batch \(batch): relative error \(worst / scale)")
          // The kernel computes what the stored levels say.
          let reference = x.matmul(layer.weights.dequantized(), transposeOther: true).scalars.enumerated().map {
            $1 + bias.scalars[$0 % n]
          }
          let kernelError = zip(y, reference).map { abs($0 - $1) }.max()!
          XCTAssertLessThan(kernelError / scale, 0.01, "int\(bits) batch \(batch) against its own levels")
          for (a, b) in zip(y, outputs[0]) { XCTAssertEqual(a, b, accuracy: 1e-4 * scale) }
        }
      }
    }
  }

  func testAnInputScaleDividesTheInputOnBothKernels() throws {
    var g = SeededGenerator(seed: 8)
    let (n, k) = (12, 64)
    let weight = Tensor<Float>(shape: [n, k], scalars: g.floats(n * k, -0.3...0.3))
    let scale = Tensor<Float>(shape: [k], scalars: g.floats(k, 0.2...5))
    let weights = GroupQuantizedWeights(quantizing: weight, bits: 4, groupSize: 32)
    let scaled = WeightOnlyLinear(weights: weights, bias: nil, inputScale: scale)
    let plain = WeightOnlyLinear(weights: weights, bias: nil)
    let x = Tensor<Float>(shape: [5, k], scalars: g.floats(5 * k, -1...1))
    let divided = Tensor<Float>(shape: [5, k], scalars: x.scalars.enumerated().map { $1 / scale.scalars[$0 % k] })
    var context = ForwardContext.inference
    let expected = plain.forward([Variable(divided)], context: &context).value.scalars
    let integer = scaled.forward([Variable(x)], context: &context).value.scalars
    let float = scaled.computing(inFloat: true).forward([Variable(x)], context: &context).value.scalars
    let top = expected.map(abs).max()!
    for (a, b) in zip(integer, expected) { XCTAssertEqual(a, b, accuracy: 1e-4 * top) }
    for (a, b) in zip(float, expected) { XCTAssertEqual(a, b, accuracy: 0.02 * top) }
    // The scale is a stored tensor, counted in the layer's bytes, and restored from a file.
    XCTAssertEqual(scaled.statistics.storedBytes, plain.statistics.storedBytes + 4 * k)
    let model = try Model(
      architecture: "mlp", inputShape: [k], classCount: n, sequence: [("fc", scaled)])
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("awq-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try ModelFile.save(model, to: url)
    let loaded = try ModelFile.load(from: url, builders: CompressedLayers.builders)
    XCTAssertEqual(loaded.predict(x).scalars, model.predict(x).scalars)
    // A file whose scale is not positive is refused.
    var file = try SafetensorsFile.read(from: url)
    let index = try XCTUnwrap(file.tensors.firstIndex { $0.name == "fc.input_scale" })
    file.tensors[index].tensor = .float32(Tensor(shape: [k], scalars: [Float](repeating: 0, count: k)))
    try file.write(to: url)
    XCTAssertThrowsError(try ModelFile.load(from: url, builders: CompressedLayers.builders)) {
      XCTAssertTrue("\($0)".contains("input_scale"), "\($0)")
    }
  }
}
