import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheCompress

/// 2:4 semi-structured Linears: built by `Deployment` from 2:4 masks, saved and loaded, equal
/// to the masked fp32 model; malformed files refused with `ModelError`s.
final class SemiStructuredLinearTests: XCTestCase {
  /// Keeps the 2 largest |w| of every 4 consecutive inputs of every row (what "2:4" pruning
  /// leaves): sets the mask and zeroes the rest.
  func pruneTwoFour(_ p: Parameter) {
    let w = p.value.contiguous().scalars
    var mask = [Float](repeating: 0, count: w.count)
    for b in stride(from: 0, to: w.count, by: 4) {
      let order = (b..<(b + 4)).sorted { abs(w[$0]) > abs(w[$1]) }
      mask[order[0]] = 1
      mask[order[1]] = 1
    }
    p.mask = Tensor(shape: p.shape, scalars: mask)
    p.applyMask()
  }

  func testDeployedTwoFourModelEqualsTheMaskedModelAfterSaveAndLoad() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data)
    let linears = model.nodes.compactMap { $0.layer as? Linear }
    XCTAssertEqual(linears.count, 2)
    for linear in linears { pruneTwoFour(linear.weight) }
    let url = try temporaryDirectory(self).appendingPathComponent("m.lathe")
    let loaded = try deployedRoundTrip(model, to: url)
    let semi = loaded.nodes.compactMap { $0.layer as? SemiStructuredLinear }
    XCTAssertEqual(semi.count, 2, "both 2:4 Linears become SemiStructuredLinear")
    for (layer, linear) in zip(semi, linears) {
      XCTAssertEqual(layer.weights.dense(), linear.weight.value, "the stored weight is the masked one")
      // 16 bits of values + 1 bit of positions per weight, plus the fp32 bias.
      let s = layer.statistics
      let weights = linear.weight.value.count
      XCTAssertEqual(s.storedBytes, weights * 2 + (weights / 4 + 1) / 2 + linear.outputs * 4)
      XCTAssertEqual(s.bitsPerParameter, Double(s.storedBytes * 8) / Double(weights + linear.outputs))
    }
    let x = data.test.slice(0..<32).inputs
    assertClose(logits(loaded, x), logits(model, x), tolerance: 1e-4, "batch 32")
    for i in 0..<3 {
      assertClose(
        logits(loaded, data.test.slice(i..<(i + 1)).inputs), logits(model, data.test.slice(i..<(i + 1)).inputs),
        tolerance: 1e-5, "row \(i)")
    }
  }

  /// Over the last axis like Linear: [batch, sequence, in] → [batch, sequence, out].
  func testSequenceInputsRunOverTheLastAxis() {
    var g = SeededGenerator(seed: 5)
    let linear = Linear(inputs: 36, outputs: 20, generator: &g)
    pruneTwoFour(linear.weight)
    let layer = SemiStructuredLinear(
      weights: SemiStructuredWeights(weight: linear.weight.value, mask: linear.weight.mask!)!,
      bias: linear.bias!.value)
    let x = Variable(.uniform([2, 3, 36], low: -1, high: 1, generator: &g))
    var context = ForwardContext.inference
    let want = linear.forward([x], context: &context)
    let got = layer.forward([x], context: &context)
    XCTAssertEqual(got.shape, [2, 3, 20])
    assertClose(got.value.scalars, want.value.scalars, tolerance: 1e-5)
  }

  func testOnlyExactTwoFourMasksConvert() {
    var g = SeededGenerator(seed: 6)
    let linear = Linear(inputs: 8, outputs: 4, generator: &g)
    pruneTwoFour(linear.weight)
    XCTAssertNotNil(Deployment.semiStructured(linear.weight))
    // One block keeping 3: not 2:4.
    var mask = linear.weight.mask!.scalars
    mask[mask.firstIndex(of: 0)!] = 1
    linear.weight.mask = Tensor(shape: [4, 8], scalars: mask)
    XCTAssertNil(Deployment.semiStructured(linear.weight))
    XCTAssertFalse(SemiStructuredWeights.isTwoFour(linear.weight.mask!))
    // Inputs not a multiple of 4.
    let odd = Linear(inputs: 6, outputs: 2, generator: &g)
    odd.weight.mask = Tensor(shape: [2, 6], scalars: [1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1])
    XCTAssertNil(Deployment.semiStructured(odd.weight))
    // No mask: dense, even when half the weights are zero.
    let unmasked = Linear(inputs: 8, outputs: 4, generator: &g)
    XCTAssertNil(Deployment.semiStructured(unmasked.weight))
  }

  func stored(_ w: SemiStructuredWeights) -> [String: AnyTensor] {
    Dictionary(uniqueKeysWithValues: w.storedTensors(prefix: "weight.").map { ($0.name, $0.tensor) })
  }

  func positionBytes(_ t: [String: AnyTensor]) -> [UInt8] {
    guard case .uint8(let p)? = t["weight.positions"] else { return [] }
    return p.scalars
  }

  /// 3 rows of 12 inputs: 3 blocks per row, so the last byte's high nibble is unused.
  func testStoredFormRoundTripsAndMalformedTensorsThrow() throws {
    var g = SeededGenerator(seed: 7)
    let linear = Linear(inputs: 12, outputs: 3, generator: &g)
    pruneTwoFour(linear.weight)
    let weights = SemiStructuredWeights(weight: linear.weight.value, mask: linear.weight.mask!)!
    let good = stored(weights)
    func restore(_ t: [String: AnyTensor]) throws -> SemiStructuredWeights {
      try SemiStructuredWeights.restore(from: t, prefix: "weight.", rows: 3, columns: 12, node: "fc")
    }
    let back = try restore(good)
    XCTAssertEqual(back.dense(), linear.weight.value)
    XCTAssertEqual(back.positions, weights.positions)
    XCTAssertEqual(good["weight.positions"]?.shape, [3, 2])

    func assertRefused(_ t: [String: AnyTensor], _ what: String, mentions: String, line: UInt = #line) {
      XCTAssertThrowsError(try restore(t), what, line: line) { error in
        XCTAssertTrue(error is ModelError, "\(what): \(error)", line: line)
        XCTAssertTrue("\(error)".contains(mentions), "\(what): \(error)", line: line)
      }
    }
    var missing = good
    missing["weight.positions"] = nil
    assertRefused(missing, "no positions", mentions: "fc.weight.positions")
    var wrongType = good
    wrongType["weight.values"] = .uint8(Tensor(shape: [3, 6], scalars: [UInt8](repeating: 0, count: 18)))
    assertRefused(wrongType, "values as U8", mentions: "F32")
    var wrongShape = good
    wrongShape["weight.positions"] = .uint8(Tensor(shape: [3, 3], scalars: [UInt8](repeating: 0x94, count: 9)))
    assertRefused(wrongShape, "positions [3, 3]", mentions: "fc.weight.positions")
    var nibbles = positionBytes(good)
    nibbles[0] = (nibbles[0] & 0xF0) | 0x5  // p0 = p1 = 1
    var equal = good
    equal["weight.positions"] = .uint8(Tensor(shape: [3, 2], scalars: nibbles))
    assertRefused(equal, "p0 = p1", mentions: "row 0, block 0")
    nibbles = positionBytes(good)
    nibbles[3] |= 0x40  // row 1's unused high nibble
    var padding = good
    padding["weight.positions"] = .uint8(Tensor(shape: [3, 2], scalars: nibbles))
    assertRefused(padding, "unused nibble set", mentions: "row 1")
  }
}
