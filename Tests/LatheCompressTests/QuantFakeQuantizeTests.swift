import LatheTensor
import XCTest

@testable import LatheCompress

/// The fakeQuantized op: forward values on the grid, straight-through gradients.
final class QuantFakeQuantizeTests: XCTestCase {
  func testForwardSnapsToTheGridAndClips() {
    // u8, scale 0.1, zero point 10: representable range [-1.0, 24.5].
    let x = Variable(Tensor(shape: [6], scalars: [-2, -1.0, 0.04, 0.26, 3.333, 30]))
    let y = x.fakeQuantized(scales: [0.1], zeroPoints: [10], qmin: 0, qmax: 255).value.scalars
    let expected: [Float] = [-1.0, -1.0, 0, 0.3, 3.3, 24.5]
    for (a, b) in zip(y, expected) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    // Per channel along axis 0: each row uses its own scale.
    let w = Tensor<Float>(shape: [2, 2], scalars: [0.26, -0.26, 0.26, -0.26])
    let q = w.fakeQuantizedWithMask(scales: [0.1, 0.2], zeroPoints: [0, 0], qmin: -127, qmax: 127).values.scalars
    for (a, b) in zip(q, [Float(0.3), -0.3, 0.2, -0.2]) { XCTAssertEqual(a, b, accuracy: 1e-6) }
  }

  func testStraightThroughGradientPassesInsideRangeOnly() {
    let values: [Float] = [-3, -0.5, 0, 0.74, 1.2, 2.6, 5]
    let x = Variable(Tensor(shape: [7], scalars: values), requiresGrad: true)
    // s8-like grid with scale 0.1 and levels -10...25: range [-1.0, 2.5].
    let y = x.fakeQuantized(scales: [0.1], zeroPoints: [0], qmin: -10, qmax: 25)
    let upstream = Tensor<Float>(shape: [7], scalars: [1, 2, 3, 4, 5, 6, 7])
    y.backpropagate(seed: upstream)
    XCTAssertEqual(x.grad?.scalars, [0, 2, 3, 4, 5, 0, 0])
    // A numerical check of what STE approximates: inside the range the op follows the
    // identity to within half a step, so the finite-difference slope over a wide interval is ~1;
    // outside it is flat (slope 0), matching the zeroed gradient.
    func f(_ v: Float) -> Float {
      Tensor(shape: [1], scalars: [v]).fakeQuantizedWithMask(scales: [0.1], zeroPoints: [0], qmin: -10, qmax: 25)
        .values.scalars[0]
    }
    let h: Float = 0.5
    XCTAssertEqual((f(0.74 + h) - f(0.74 - h)) / (2 * h), 1, accuracy: 0.11)
    XCTAssertEqual((f(5 + h) - f(5 - h)) / (2 * h), 0)
    XCTAssertEqual((f(-3 + h) - f(-3 - h)) / (2 * h), 0)
  }

  func testFakeQuantizedLayerMatchesTheInt8LayerItBecomes() throws {
    let data = blobSplit()
    var g = SeededGenerator(seed: 1)
    let linear = Linear(inputs: 64, outputs: 10, generator: &g)
    let observer = RangeObserver(low: 0, high: 1.4, decay: 0.99)
    let fake = FakeQuantizedLayer(wrapping: linear, observer: observer)
    let x = data.test.inputs.reshaped([data.test.count, 64])
    var context = ForwardContext.inference
    let a = fake.forward([Variable(x)], context: &context).value.scalars
    let int8 = QuantizedLinear(
      weights: QuantizedWeights(quantizing: linear.weight.value, granularity: .perChannel), bias: linear.bias?.value,
      input: .fixed(observer.parameters), relu: false)
    let b = int8.forward([Variable(x)], context: &context).value.scalars
    assertClose(a, b, tolerance: 1e-4)
  }
}
