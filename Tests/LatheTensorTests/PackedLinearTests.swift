import LatheTensor
import XCTest

/// A Linear in inference at few rows runs on its weight packed once (`PackedWeight`); the
/// packed form must follow every change of the weight.
final class PackedLinearTests: XCTestCase {
  private func reference(_ x: Tensor<Float>, _ layer: Linear) -> [Float] {
    x.linearForward(weight: layer.weight.value, bias: layer.bias?.value).scalars
  }

  private func inference(_ x: Tensor<Float>, _ layer: Linear) -> [Float] {
    GradientRecording.disabled {
      var context = ForwardContext.inference
      return layer.forward([Variable(x)], context: &context).value.scalars
    }
  }

  /// Packed on first use and kept while the weight is unchanged; a write to it packs again;
  /// a shape-only pass (`skipping`) packs nothing.
  func testTheWeightIsPackedOnceAndNotInShapePasses() {
    let cache = PackedWeight()
    var weight = Tensor<Float>(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])
    XCTAssertNil(PackedWeight.skipping { cache.packed(weight) })
    let packed = cache.packed(weight)
    XCTAssertEqual(packed?.count, 16 * 2)
    XCTAssertEqual(cache.packed(weight)?.scalars, packed?.scalars)
    weight.withUnsafeMutableBufferPointer { $0[0] = 7 }
    XCTAssertEqual(cache.packed(weight)?.scalars.first, 7, "a changed weight is packed again")
  }

  /// Every inference run of a model gives the same bits (a model compared with itself must
  /// show no error): the first run packs, and so does every later one.
  func testRepeatedInferenceIsBitIdentical() {
    var g = SeededGenerator(seed: 7)
    let layer = Linear(inputs: 50, outputs: 40, generator: &g)
    let x = Tensor<Float>.uniform([9, 50], low: -1, high: 1, generator: &g)
    XCTAssertEqual(inference(x, layer), inference(x, layer))
  }

  func testPackedInferenceMatchesTheBLASProduct() {
    var g = SeededGenerator(seed: 5)
    let layer = Linear(inputs: 37, outputs: 21, generator: &g)
    layer.bias!.value = .uniform([21], low: -1, high: 1, generator: &g)
    for rows in [1, 3, 6, 7, 128, 129] {
      let x = Tensor<Float>.uniform([rows, 37], low: -1, high: 1, generator: &g)
      for run in 0..<2 {
        let got = inference(x, layer)
        for (a, b) in zip(got, reference(x, layer)) { XCTAssertEqual(a, b, accuracy: 1e-5, "rows \(rows) run \(run)") }
      }
    }
  }

  /// Writes to the weight (an optimizer step, pruning) and a new weight tensor both show in the
  /// next inference: the stale packed form is never used.
  func testAChangedWeightIsPackedAgain() {
    var g = SeededGenerator(seed: 6)
    let layer = Linear(inputs: 8, outputs: 5, generator: &g)
    let x = Tensor<Float>.uniform([2, 8], low: -1, high: 1, generator: &g)
    let before = inference(x, layer)
    layer.weight.value.withUnsafeMutableBufferPointer { $0[0] += 1 }
    let afterWrite = inference(x, layer)
    XCTAssertNotEqual(before, afterWrite)
    for (a, b) in zip(afterWrite, reference(x, layer)) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    layer.weight.value = .zeros([5, 8])
    XCTAssertEqual(inference(x, layer), [Float](repeating: 0, count: 10))
  }
}
