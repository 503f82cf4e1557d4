import LatheTensor
import XCTest

/// conv2d: forward against a direct 7-loop convolution, and gradients w.r.t. input, weight
/// and bias for every kind of geometry.
final class ConvolutionTests: XCTestCase {
  struct Case {
    var input: [Int]
    var weight: [Int]
    var stride = [1, 1]
    var padding = [0, 0, 0, 0]
    var dilation = [1, 1]
    var groups = 1
    var bias = true
  }

  let cases: [Case] = [
    Case(input: [2, 3, 6, 5], weight: [4, 3, 3, 3]),
    Case(input: [2, 3, 7, 6], weight: [4, 3, 3, 3], stride: [2, 2], padding: [1, 1], bias: false),
    Case(input: [1, 2, 6, 7], weight: [3, 2, 3, 2], stride: [2, 1], padding: [0, 2, 1, 1]),
    Case(input: [2, 2, 7, 7], weight: [2, 2, 3, 3], padding: [2, 2], dilation: [2, 2]),
    Case(input: [2, 4, 5, 5], weight: [6, 2, 3, 3], padding: [1, 1], groups: 2),
    Case(input: [2, 4, 6, 6], weight: [4, 1, 3, 3], stride: [2, 2], padding: [1, 0, 1, 2], groups: 4, bias: false),
    Case(input: [1, 3, 4, 4], weight: [6, 1, 1, 1], groups: 3),
    Case(input: [2, 2, 5, 7], weight: [3, 2, 1, 3], stride: [1, 2], dilation: [1, 2]),
    // 1x1, stride 1, unpadded: the GEMM reads the image itself (with and without bias, grouped).
    Case(input: [2, 4, 3, 5], weight: [6, 4, 1, 1]),
    Case(input: [2, 4, 3, 5], weight: [6, 2, 1, 1], groups: 2, bias: false),
    Case(input: [1, 3, 5, 5], weight: [2, 3, 1, 1], stride: [2, 2]),
    Case(input: [1, 3, 4, 4], weight: [2, 3, 1, 1], padding: [1, 0, 0, 1]),
  ]

  func testForwardMatchesNaiveConvolution() {
    for (index, c) in cases.enumerated() {
      let x = TestData.uniform(c.input, seed: 100 + UInt64(index))
      let w = TestData.uniform(c.weight, seed: 200 + UInt64(index))
      let b = c.bias ? TestData.uniform([c.weight[0]], seed: 300 + UInt64(index)) : nil
      let y = Variable(x).conv2d(
        weight: Variable(w), bias: b.map { Variable($0) }, stride: c.stride, padding: c.padding,
        dilation: c.dilation, groups: c.groups
      ).value
      let expected = NaiveReference.conv2d(
        x, w, bias: b, stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups)
      assertClose(y, expected, "case \(index)")
    }
  }

  /// Columns over 4 MB are unfolded a band of output rows at a time (lk_im2col_rows): bands
  /// with a short last one, at stride 1 (which would otherwise take the direct path) and 2.
  func testLargeImagesUnfoldBandByBand() {
    // k · P past 2^20 in each; one output channel per group keeps the reference loop short.
    let large = [
      Case(input: [1, 8, 130, 130], weight: [1, 8, 3, 3]),
      Case(input: [1, 16, 200, 150], weight: [2, 8, 3, 3], stride: [2, 1], padding: [1, 1], groups: 2),
      Case(input: [1, 2, 300, 300], weight: [1, 2, 5, 5], stride: [2, 2], padding: [2, 2], bias: false),
    ]
    for (index, c) in large.enumerated() {
      let x = TestData.uniform(c.input, seed: 800 + UInt64(index))
      let w = TestData.uniform(c.weight, seed: 810 + UInt64(index))
      let b = c.bias ? TestData.uniform([c.weight[0]], seed: 820 + UInt64(index)) : nil
      let y = Variable(x).conv2d(
        weight: Variable(w), bias: b.map { Variable($0) }, stride: c.stride, padding: c.padding, groups: c.groups
      ).value
      let expected = NaiveReference.conv2d(
        x, w, bias: b, stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups)
      assertClose(y, expected, accuracy: 1e-4, "large case \(index)")
    }
  }

  func testGradients() {
    for (index, c) in cases.enumerated() {
      var inputs = [TestData.uniform(c.input, seed: 400 + UInt64(index)), TestData.uniform(c.weight, seed: 500)]
      if c.bias { inputs.append(TestData.uniform([c.weight[0]], seed: 600)) }
      checkGradients(inputs) { v in
        v[0].conv2d(
          weight: v[1], bias: c.bias ? v[2] : nil, stride: c.stride, padding: c.padding, dilation: c.dilation,
          groups: c.groups)
      }
    }
  }

  func testWeightOnlyAndInputOnlyGradients() {
    let x = Variable(TestData.uniform([1, 2, 4, 4], seed: 700))
    let w = Variable(TestData.uniform([3, 2, 3, 3], seed: 701), requiresGrad: true)
    x.conv2d(weight: w, bias: nil, padding: [1, 1]).sum().backpropagate()
    XCTAssertNil(x.grad)
    XCTAssertEqual(w.grad?.shape, [3, 2, 3, 3])

    let x2 = Variable(x.value, requiresGrad: true)
    let w2 = Variable(w.value)
    x2.conv2d(weight: w2, bias: nil, padding: [1, 1]).sum().backpropagate()
    XCTAssertNil(w2.grad)
    XCTAssertEqual(x2.grad?.shape, [1, 2, 4, 4])
  }
}
