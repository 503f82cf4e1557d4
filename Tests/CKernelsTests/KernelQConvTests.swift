import CKernels
import LatheTensor
import LatheTestSupport
import XCTest

/// The one-image int8 convolution against direct loops, both methods (the rows method's im2row
/// pads with the zero point: the cases' padding checks it).
final class KernelQConvTests: XCTestCase {

  /// The patch value at (pixel p, column (c*kh + i)*kw + j), the zero point outside.
  func patch(_ x: [UInt8], _ t: ConvolutionCase, _ w: lk_window, p: Int, c: Int, i: Int, j: Int, pad: UInt8) -> UInt8 {
    let (oy, ox) = (p / Int(w.out_w), p % Int(w.out_w))
    let iy = oy * t.stride.0 - t.pad.0 + i * t.dilation.0
    let ix = ox * t.stride.1 - t.pad.1 + j * t.dilation.1
    guard iy >= 0, iy < t.height, ix >= 0, ix < t.width else { return pad }
    return x[(c * t.height + iy) * t.width + ix]
  }

  func testConvolutionOfOneImageOnEveryPath() {
    var rng = SeededGenerator(seed: 7)
    for (index, t) in ConvolutionCase.kernelCases.enumerated() {
      var w = t.window
      let k = t.channels * t.kh * t.kw
      let pixels = Int(w.out_h * w.out_w)
      let x = rng.bytes(t.channels * t.height * t.width)
      let weight = rng.signedBytes(t.outChannels * k)
      let packed = packWeights(weight, n: t.outChannels, k: k)
      let q = OutputStage(
        aZeroPoint: Int32.random(in: 1...255, using: &rng), aScale: 0.02,
        wScale: rng.floats(t.outChannels, 0.001...0.01), bias: index % 2 == 0 ? rng.floats(t.outChannels, -1...1) : nil,
        relu: index % 2 == 1, outScale: 0.1, outZeroPoint: 3)
      // Direct convolution of (x - zp) with the weights, padding contributing zero.
      var expected = [Double](repeating: 0, count: t.outChannels * pixels)
      for o in 0..<t.outChannels {
        for p in 0..<pixels {
          var acc: Int64 = 0
          for c in 0..<t.channels {
            for i in 0..<t.kh {
              for j in 0..<t.kw {
                let a = Int64(patch(x, t, w, p: p, c: c, i: i, j: j, pad: UInt8(q.aZeroPoint))) - Int64(q.aZeroPoint)
                acc += a * Int64(weight[o * k + (c * t.kh + i) * t.kw + j])
              }
            }
          }
          expected[o * pixels + p] = q.real(acc: acc, wsum: 0, column: o)
        }
      }
      // Garbage in the scratch: nothing may depend on what a previous image left there.
      var scratch = rng.bytes(lk_qconv2d_scratch_size(&w))
      defer { _ = lk_qconv2d_force(-1) }
      for method in [LK_QCONV_ROWS, LK_QCONV_COLUMNS] {
        XCTAssertEqual(lk_qconv2d_force(Int32(method)), 1)
        forEachKernelPath { _, path in
          let name = "\(path) \(method == LK_QCONV_ROWS ? "rows" : "columns") case \(index)"
          // One sentinel past the end: nothing may be written beyond the image.
          var y = [Float](repeating: .nan, count: expected.count + 1)
          var y8 = [UInt8](repeating: 0xEE, count: expected.count + 1)
          q.withC { stage in
            lk_qconv2d_image(&w, x, packed, Int32(t.outChannels), stage, &y, nil, &scratch)
            lk_qconv2d_image(&w, x, packed, Int32(t.outChannels), stage, nil, &y8, &scratch)
          }
          XCTAssertTrue(y[expected.count].isNaN && y8[expected.count] == 0xEE, "\(name): wrote past the end")
          for i in 0..<expected.count {
            assertClose(y[i], expected[i], 1e-5, "\(name) output \(i)")
            let (value, nearTie) = q.requantized(expected[i])
            if Int(y8[i]) != value && !(nearTie && abs(Int(y8[i]) - value) == 1) {
              XCTFail("\(name) u8 output \(i): \(y8[i]) != \(value)")
              return
            }
          }
        }
      }
    }
  }

  /// Every channel count the int16 paths block (6 channels on AVX2, 8 on AVX-512 without
  /// VNNI, and each remainder), both methods, exact on every path; odd counts take 255 ×
  /// 127/-128 everywhere, where any int16 saturation would show.
  func testEveryChannelBlockIsExactOnEveryPath() {
    var rng = SeededGenerator(seed: 8)
    let t = ConvolutionCase(channels: 16, height: 7, width: 11, outChannels: 1, kh: 3, kw: 3, pad: (1, 1, 1, 1))
    var w = t.window
    let k = t.channels * t.kh * t.kw
    let pixels = Int(w.out_h * w.out_w)
    var scratch = [UInt8](repeating: 0, count: lk_qconv2d_scratch_size(&w))
    defer { _ = lk_qconv2d_force(-1) }
    for outChannels in 1...17 {
      let extreme = outChannels % 2 == 1
      let size = t.channels * t.height * t.width
      let x = extreme ? [UInt8](repeating: 255, count: size) : rng.bytes(size)
      let weight =
        extreme ? (0..<(outChannels * k)).map { Int8($0 % 3 == 0 ? 127 : -128) } : rng.signedBytes(outChannels * k)
      let packed = packWeights(weight, n: outChannels, k: k)
      // Zero point 0 (the padding is 0) and unit scales: the outputs are the accumulators.
      let q = OutputStage(
        aZeroPoint: 0, aScale: 1, wScale: [Float](repeating: 1, count: outChannels), bias: nil, relu: false)
      var expected = [Float](repeating: 0, count: outChannels * pixels)
      for o in 0..<outChannels {
        for p in 0..<pixels {
          var acc: Int64 = 0
          for c in 0..<t.channels {
            for i in 0..<t.kh {
              for j in 0..<t.kw {
                let a = Int64(patch(x, t, w, p: p, c: c, i: i, j: j, pad: 0))
                acc += a * Int64(weight[o * k + (c * t.kh + i) * t.kw + j])
              }
            }
          }
          expected[o * pixels + p] = Float(acc)
        }
      }
      for method in [LK_QCONV_ROWS, LK_QCONV_COLUMNS] {
        XCTAssertEqual(lk_qconv2d_force(Int32(method)), 1)
        forEachKernelPath { _, path in
          var y = [Float](repeating: .nan, count: expected.count)
          q.withC { lk_qconv2d_image(&w, x, packed, Int32(outChannels), $0, &y, nil, &scratch) }
          XCTAssertEqual(y, expected, "\(path) method \(method), \(outChannels) channels")
        }
      }
    }
  }

  /// ReLU in the u8 domain clamps at the output zero point; saturation at 0 and 255. A 1×1
  /// convolution through the rows method is the GEMM with pixels as rows, A = the image
  /// transposed: pixel 0 is all 255, pixel 1 all 0.
  func testRequantizedOutputSaturatesAndClampsAtZeroPoint() {
    let t = ConvolutionCase(channels: 4, height: 1, width: 2, outChannels: 3, kh: 1, kw: 1)
    var w = t.window
    let x: [UInt8] = [255, 0, 255, 0, 255, 0, 255, 0]  // [channel][pixel]
    let weight: [Int8] = [127, 127, 127, 127, -128, -128, -128, -128, 1, 0, 0, 0]
    let packed = packWeights(weight, n: 3, k: 4)
    let q = OutputStage(
      aZeroPoint: 0, aScale: 1, wScale: [1, 1, 1], bias: nil, relu: true, outScale: 1, outZeroPoint: 10)
    var scratch = [UInt8](repeating: 0, count: lk_qconv2d_scratch_size(&w))
    defer { _ = lk_qconv2d_force(-1) }
    XCTAssertEqual(lk_qconv2d_force(Int32(LK_QCONV_ROWS)), 1)
    forEachKernelPath { _, path in
      var y = [UInt8](repeating: 0, count: 6)
      q.withC { lk_qconv2d_image(&w, x, packed, 3, $0, nil, &y, &scratch) }
      // [channel][pixel]: 255·508 saturates, negatives clamp at the zero point, 255 + 10 saturates.
      XCTAssertEqual(y, [255, 10, 10, 10, 255, 10], path)
    }
  }
}

extension ConvolutionCase {
  /// The geometry as the C kernels take it, for one image.
  var window: lk_window {
    let oh = (height + pad.0 + pad.2 - dilation.0 * (kh - 1) - 1) / stride.0 + 1
    let ow = (width + pad.1 + pad.3 - dilation.1 * (kw - 1) - 1) / stride.1 + 1
    return lk_window(
      batch: 1, channels: Int32(channels), height: Int32(height), width: Int32(width), kernel_h: Int32(kh),
      kernel_w: Int32(kw), stride_h: Int32(stride.0), stride_w: Int32(stride.1), pad_top: Int32(pad.0),
      pad_left: Int32(pad.1), dilation_h: Int32(dilation.0), dilation_w: Int32(dilation.1), out_h: Int32(oh),
      out_w: Int32(ow), pad_bottom: Int32(pad.2), pad_right: Int32(pad.3))
  }
}
