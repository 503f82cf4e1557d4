import LatheTensor
import XCTest

/// Pooling: output sizes against PyTorch's formula, forward against naive loops, gradients.
final class PoolingTests: XCTestCase {
  struct Case {
    var input: [Int]
    var kernel: [Int]
    var stride: [Int]
    var padding: [Int]
    var dilation = [1, 1]
    var ceilMode = false
  }

  let cases: [Case] = [
    Case(input: [2, 2, 6, 6], kernel: [2, 2], stride: [2, 2], padding: [0, 0]),
    Case(input: [1, 3, 7, 5], kernel: [3, 3], stride: [2, 2], padding: [1, 1]),
    Case(input: [2, 1, 7, 7], kernel: [3, 2], stride: [2, 2], padding: [1, 0], ceilMode: true),
    Case(input: [1, 2, 6, 5], kernel: [3, 3], stride: [2, 3], padding: [1, 1], ceilMode: true),
    Case(input: [1, 2, 5, 6], kernel: [2, 3], stride: [1, 2], padding: [0, 1]),
    Case(input: [1, 2, 7, 7], kernel: [2, 2], stride: [2, 1], padding: [1, 1], dilation: [2, 2], ceilMode: true),
    Case(input: [2, 1, 5, 6], kernel: [3, 2], stride: [2, 2], padding: [0, 1, 2, 0]),
    Case(input: [1, 2, 6, 5], kernel: [2, 3], stride: [2, 2], padding: [1, 0, 0, 2], ceilMode: true),
    // 2x2 at stride 1 (pool.c's unchecked interior): SAME_UPPER's end padding, none, and
    // bottom only on a two-column image, so the last row and column run checked.
    Case(input: [2, 2, 5, 7], kernel: [2, 2], stride: [1, 1], padding: [0, 0, 1, 1]),
    Case(input: [1, 3, 4, 4], kernel: [2, 2], stride: [1, 1], padding: [0, 0]),
    Case(input: [1, 1, 3, 2], kernel: [2, 2], stride: [1, 1], padding: [0, 0, 1, 0]),
  ]

  func geometry(_ c: Case) -> WindowGeometry {
    WindowGeometry(
      kernel: c.kernel, stride: c.stride, padding: c.padding, dilation: c.dilation, ceilMode: c.ceilMode)
  }

  func testOutputSizeMatchesPyTorchFormula() {
    for input in 1...9 {
      for kernel in 1...4 {
        for stride in 1...3 {
          for dilation in 1...2 {
            let span = dilation * (kernel - 1) + 1
            for padding in 0...(kernel / 2) where span <= input + 2 * padding {
              for ceilMode in [false, true] {
                let g = WindowGeometry(
                  kernel: [kernel, 1], stride: [stride, 1], padding: [padding, 0], dilation: [dilation, 1],
                  ceilMode: ceilMode)
                let expected = NaiveReference.pooledSize(input, span, stride, padding, padding, ceilMode)
                let label = "in \(input) k \(kernel) s \(stride) d \(dilation) p \(padding) ceil \(ceilMode)"
                XCTAssertEqual(g.outputSize(height: input, width: input).0, expected, label)
                XCTAssertEqual(g.outputSize(height: 1, width: input).1, input)
              }
            }
          }
        }
      }
    }
    // Known values: PyTorch gives 3 (floor) and 4 (ceil) for in 7, k 2, s 2; ceil mode drops
    // a window that would start in the right padding (in 5, k 2, s 2, p 1 -> 3, not 4).
    XCTAssertEqual(WindowGeometry(kernel: [2, 2], stride: [2, 2]).outputSize(height: 7, width: 7).0, 3)
    XCTAssertEqual(
      WindowGeometry(kernel: [2, 2], stride: [2, 2], ceilMode: true).outputSize(height: 7, width: 7).0, 4)
    let dropped = WindowGeometry(kernel: [2, 2], stride: [2, 2], padding: [1, 1], ceilMode: true)
    XCTAssertEqual(dropped.outputSize(height: 5, width: 5).0, 3)
    let dilated = WindowGeometry(kernel: [3, 3], stride: [1, 1], padding: [2, 2], dilation: [2, 2])
    XCTAssertEqual(dilated.outputSize(height: 5, width: 5).0, 5)
  }

  func testMaxPoolForward() {
    for (index, c) in cases.enumerated() {
      let x = TestData.uniform(c.input, seed: 800 + UInt64(index))
      let y = Variable(x).maxPool2d(geometry(c)).value
      let expected = NaiveReference.pool2d(
        x, kernel: c.kernel, stride: c.stride, padding: c.padding, dilation: c.dilation, ceilMode: c.ceilMode,
        average: false,
        countIncludePad: false)
      assertClose(y, expected, accuracy: 0, "case \(index)")
    }
  }

  /// Large enough to be split over the thread pool by images (5 images, 84,500 outputs), in
  /// inference and with gradients (the winners must point into the right image).
  func testMaxPoolSplitOverThreadsMatchesNaive() {
    let x = TestData.uniform([5, 4, 130, 130], seed: 880)
    let g = WindowGeometry(kernel: [2, 2], stride: [2, 2])
    let expected = NaiveReference.pool2d(
      x, kernel: [2, 2], stride: [2, 2], padding: [0, 0, 0, 0], dilation: [1, 1], ceilMode: false, average: false,
      countIncludePad: false)
    let inference = GradientRecording.disabled { Variable(x).maxPool2d(g).value }
    assertClose(inference, expected, accuracy: 0, "inference")
    let input = Variable(x, requiresGrad: true)
    let y = input.maxPool2d(g)
    assertClose(y.value, expected, accuracy: 0, "training")
    y.sum().backpropagate()
    // Each window's maximum gets the gradient 1: one 1 per window, in the image it came from.
    let dx = input.grad!
    XCTAssertEqual(dx.scalars.reduce(0, +), Float(y.value.count))
    for image in 0..<5 {
      let plane = dx.scalars[(image * 4 * 130 * 130)..<((image + 1) * 4 * 130 * 130)]
      XCTAssertEqual(plane.reduce(0, +), Float(4 * 65 * 65), "image \(image)")
    }
  }

  func testAvgPoolForward() {
    for (index, c) in cases.enumerated() {
      let x = TestData.uniform(c.input, seed: 900 + UInt64(index))
      for include in [false, true] {
        let y = Variable(x).avgPool2d(geometry(c), countIncludePad: include).value
        let expected = NaiveReference.pool2d(
          x, kernel: c.kernel, stride: c.stride, padding: c.padding, dilation: c.dilation, ceilMode: c.ceilMode,
          average: true,
          countIncludePad: include)
        assertClose(y, expected, "case \(index) countIncludePad \(include)")
      }
    }
  }

  func testAvgPoolAsymmetricPaddingCountsTrailingPad() {
    // ONNX AveragePool with pads [0, 0, 1, 1]: the trailing pad counts when count_include_pad.
    let x = TestData.uniform([1, 1, 3, 3], seed: 950)
    let g = WindowGeometry(kernel: [2, 2], stride: [2, 2], padding: [0, 0, 1, 1])
    for include in [false, true] {
      let y = Variable(x).avgPool2d(g, countIncludePad: include).value
      let expected = NaiveReference.pool2d(
        x, kernel: [2, 2], stride: [2, 2], padding: [0, 0, 1, 1], ceilMode: false, average: true,
        countIncludePad: include)
      assertClose(y, expected, "countIncludePad \(include)")
    }
  }

  func testMaxPoolGradients() {
    for (index, c) in cases.enumerated() {
      let x = TestData.distinct(c.input, seed: 1000 + UInt64(index))
      checkGradients([x]) { $0[0].maxPool2d(self.geometry(c)) }
    }
  }

  func testAvgPoolGradients() {
    for (index, c) in cases.enumerated() {
      let x = TestData.uniform(c.input, seed: 1100 + UInt64(index))
      for include in [false, true] {
        checkGradients([x]) { $0[0].avgPool2d(self.geometry(c), countIncludePad: include) }
      }
    }
    let asymmetric = WindowGeometry(kernel: [2, 2], stride: [2, 2], padding: [0, 0, 1, 1])
    checkGradients([TestData.uniform([1, 2, 3, 3], seed: 1150)]) { $0[0].avgPool2d(asymmetric, countIncludePad: true) }
  }

  func testGlobalAvgPool() {
    let x = TestData.uniform([2, 3, 4, 5], seed: 1200)
    let y = Variable(x).globalAvgPool2d().value
    XCTAssertEqual(y.shape, [2, 3, 1, 1])
    for b in 0..<2 {
      for c in 0..<3 {
        var total: Float = 0
        for i in 0..<4 {
          for j in 0..<5 { total += x[b, c, i, j] }
        }
        XCTAssertEqual(y[b, c, 0, 0], total / 20, accuracy: 1e-6)
      }
    }
    checkGradients([x]) { $0[0].globalAvgPool2d() }
  }
}
