import LatheTensor
import XCTest

/// How the graph is recorded and how gradients flow through shared variables.
final class AutodiffGraphTests: XCTestCase {
  func testDisabledRecordingBuildsNoGraph() {
    let x = Variable(TestData.uniform([2, 3], seed: 51), requiresGrad: true)
    let y = GradientRecording.disabled { (x * x + x).exp().sum() }
    XCTAssertFalse(GradientRecording.disabled { GradientRecording.isEnabled })
    XCTAssertFalse(y.requiresGrad)
    y.backpropagate()
    XCTAssertNil(x.grad)
    XCTAssertTrue(GradientRecording.isEnabled)
    XCTAssertTrue((x * x).requiresGrad)
  }

  func testConstantsBuildNoGraph() {
    let c = Variable(TestData.uniform([2, 3], seed: 52))
    XCTAssertFalse((c * c).exp().requiresGrad)
  }

  func testGradientsAccumulateOverUses() {
    // y = x·x + x, so dy/dx = 2x + 1.
    let x = Variable(TestData.uniform([2, 3], seed: 53), requiresGrad: true)
    (x * x + x).sum().backpropagate()
    assertClose(x.grad!, x.value * 2 + 1)
    checkGradients([x.value]) { $0[0] * $0[0] + $0[0] }

    let z = Variable(x.value, requiresGrad: true)
    (z + z - z * 3).sum().backpropagate()
    assertClose(z.grad!, Tensor(repeating: -1, shape: [2, 3]))
    XCTAssertEqual(x.grad, x.value * 2 + 1, "the first graph's gradient is left alone")
  }

  func testDiamondGraph() {
    // x and a = exp(x) are each reused at several depths.
    checkGradients([TestData.uniform([3], seed: 54)]) { v in
      let a = v[0].exp()
      let b = a * v[0]
      return a * b + b - v[0]
    }
  }

  func testBackpropagateWithSeed() {
    let x = Variable(TestData.uniform([2, 2], seed: 55), requiresGrad: true)
    let seed = Tensor<Float>(shape: [2, 2], scalars: [1, 2, 3, 4])
    (x * 3).backpropagate(seed: seed)
    assertClose(x.grad!, seed * 3)
  }
}
