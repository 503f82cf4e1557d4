import LatheTensor
import LatheTestSupport
import XCTest

/// The direct depthwise kernel (dwconv.c) on every ISA path, against the 7-loop reference: the
/// geometries put outputs in the SIMD interior (widths past 16), on both borders, and on the
/// stride-2 path's last vector, where an off-by-one would read past the row.
final class DepthwiseConvolutionTests: XCTestCase {
  struct Case {
    var input: [Int]
    var multiplier = 1
    var kernel = [3, 3]
    var stride = [1, 1]
    var padding = [1, 1, 1, 1]
    var dilation = [1, 1]
  }

  let cases: [Case] = [
    Case(input: [1, 3, 9, 40]),
    Case(input: [2, 4, 17, 33], stride: [2, 2]),
    Case(input: [1, 2, 16, 32], stride: [2, 2], padding: [0, 0, 1, 1]),
    Case(input: [1, 3, 12, 31], kernel: [5, 5], padding: [2, 2, 2, 2]),
    Case(input: [1, 2, 11, 37], kernel: [5, 5], stride: [2, 2], padding: [2, 2, 2, 2]),
    Case(input: [2, 2, 10, 29], multiplier: 3, padding: [0, 0, 0, 0]),
    Case(input: [1, 2, 13, 26], kernel: [3, 3], padding: [2, 2, 2, 2], dilation: [2, 2]),
    Case(input: [1, 2, 9, 50], kernel: [1, 7], stride: [1, 3], padding: [0, 3, 0, 3]),
    Case(input: [1, 2, 7, 18], kernel: [3, 9], stride: [2, 2], padding: [1, 4, 1, 4]),
    Case(input: [1, 1, 3, 5], kernel: [3, 3], padding: [1, 1, 1, 1]),
    Case(input: [1, 2, 4, 4], kernel: [9, 9], padding: [4, 4, 4, 4]),
    // Tiles of every shape the 16-wide (AVX-512) planner asks for: eight rows of one masked
    // vector, rows of two, of four plus a remainder, and stride 2 over more than 64 outputs.
    Case(input: [1, 2, 23, 7]),
    Case(input: [1, 2, 9, 30]),
    Case(input: [1, 2, 7, 70]),
    Case(input: [1, 2, 9, 150], kernel: [5, 5], stride: [2, 2], padding: [2, 2, 2, 2]),
  ]

  func testMatchesNaiveConvolutionOnEveryKernelPath() {
    forEachKernelPath { _, isa in
      for (index, c) in cases.enumerated() {
        let channels = c.input[1]
        let x = TestData.uniform(c.input, seed: 900 + UInt64(index))
        let w = TestData.uniform([channels * c.multiplier, 1] + c.kernel, seed: 910 + UInt64(index))
        let b = TestData.uniform([channels * c.multiplier], seed: 920 + UInt64(index))
        let y = Variable(x).conv2d(
          weight: Variable(w), bias: Variable(b), stride: c.stride, padding: c.padding, dilation: c.dilation,
          groups: channels
        ).value
        let expected = NaiveReference.conv2d(
          x, w, bias: b, stride: c.stride, padding: c.padding, dilation: c.dilation, groups: channels)
        assertClose(y, expected, "\(isa) case \(index)")
      }
    }
  }

  func testGradientsThroughTheDepthwiseForward() {
    let x = TestData.uniform([2, 3, 6, 19], seed: 930)
    let w = TestData.uniform([6, 1, 3, 3], seed: 931)
    let b = TestData.uniform([6], seed: 932)
    checkGradients([x, w, b]) { v in
      v[0].conv2d(weight: v[1], bias: v[2], stride: [2, 2], padding: [1, 1, 1, 1], groups: 3)
    }
  }
}
