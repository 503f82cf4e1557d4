import CKernels
import LatheTensor
import LatheTestSupport
import XCTest

/// The int8 depthwise convolution (qdwconv.c) on every path against direct loops in Int64 and
/// against the portable path (exact sums; the output stage within one float rounding).
final class KernelQDWConvTests: XCTestCase {
  /// Depthwise geometries (outChannels is unused: one output per channel): channel counts that
  /// are no multiple of 8 or 16, strides 1 and 2, odd and asymmetric padding, kernels of one to
  /// three quads per row, planes narrower and wider than a vector, and the portable-only cases
  /// (stride 3, dilation).
  static let cases: [ConvolutionCase] = [
    ConvolutionCase(channels: 5, height: 14, width: 14, outChannels: 0, kh: 3, kw: 3, pad: (1, 1, 1, 1)),
    ConvolutionCase(
      channels: 17, height: 15, width: 13, outChannels: 0, kh: 3, kw: 3, stride: (2, 2), pad: (1, 1, 1, 1)),
    ConvolutionCase(channels: 3, height: 9, width: 40, outChannels: 0, kh: 5, kw: 5, pad: (2, 2, 2, 2)),
    ConvolutionCase(
      channels: 7, height: 28, width: 37, outChannels: 0, kh: 5, kw: 5, stride: (2, 2), pad: (1, 2, 2, 1)),
    ConvolutionCase(channels: 2, height: 7, width: 7, outChannels: 0, kh: 3, kw: 3, pad: (1, 1, 1, 1)),
    ConvolutionCase(channels: 1, height: 6, width: 70, outChannels: 0, kh: 1, kw: 9, pad: (0, 4, 0, 4)),
    ConvolutionCase(channels: 3, height: 11, width: 5, outChannels: 0, kh: 7, kw: 1, stride: (1, 2), pad: (3, 0, 3, 0)),
    ConvolutionCase(channels: 4, height: 10, width: 10, outChannels: 0, kh: 3, kw: 3, stride: (2, 1)),
    ConvolutionCase(
      channels: 2, height: 12, width: 12, outChannels: 0, kh: 3, kw: 3, stride: (3, 3), pad: (1, 1, 1, 1)),
    ConvolutionCase(
      channels: 3, height: 12, width: 17, outChannels: 0, kh: 3, kw: 3, pad: (2, 2, 2, 2), dilation: (2, 2)),
  ]

  /// Direct loops: Σ (x - zp) w over the window, the zero point outside the image.
  func reference(_ t: ConvolutionCase, _ x: [UInt8], _ weight: [Int8], zp: Int32) -> [Int64] {
    let w = t.window
    let (oh, ow) = (Int(w.out_h), Int(w.out_w))
    var sums = [Int64](repeating: 0, count: t.channels * oh * ow)
    for c in 0..<t.channels {
      for oy in 0..<oh {
        for ox in 0..<ow {
          var acc: Int64 = 0
          for i in 0..<t.kh {
            for j in 0..<t.kw {
              let iy = oy * t.stride.0 - t.pad.0 + i * t.dilation.0
              let ix = ox * t.stride.1 - t.pad.1 + j * t.dilation.1
              let inside = iy >= 0 && iy < t.height && ix >= 0 && ix < t.width
              let v = inside ? Int64(x[(c * t.height + iy) * t.width + ix]) : Int64(zp)
              acc += (v - Int64(zp)) * Int64(weight[(c * t.kh + i) * t.kw + j])
            }
          }
          sums[(c * oh + oy) * ow + ox] = acc
        }
      }
    }
    return sums
  }

  /// Runs channels [c0, c1) on the current path into a NaN-filled output one longer than needed.
  func run(_ t: ConvolutionCase, _ x: [UInt8], _ weight: [Int8], _ q: OutputStage, _ c0: Int, _ c1: Int) -> [Float] {
    var w = t.window
    let count = t.channels * Int(w.out_h * w.out_w)
    var y = [Float](repeating: .nan, count: count + 1)
    // Garbage in the scratch: nothing may depend on what a previous call left there.
    var scratch = [UInt8](repeating: 0xC3, count: lk_qdwconv2d_scratch_size(&w))
    q.withC { lk_qdwconv2d_image(&w, x, weight, $0, Int32(c0), Int32(c1), &y, &scratch) }
    return y
  }

  func testDepthwiseOnEveryPathMatchesLoopsAndPortable() {
    var rng = SeededGenerator(seed: 15)
    for (index, t) in Self.cases.enumerated() {
      let taps = t.kh * t.kw
      let extreme = index % 3 == 2  // 255 against -128/127: any int16 saturation would show
      let x =
        extreme
        ? [UInt8](repeating: 255, count: t.channels * t.height * t.width)
        : rng.bytes(
          t.channels * t.height * t.width)
      let weight =
        extreme ? (0..<(t.channels * taps)).map { Int8($0 % 2 == 0 ? -128 : 127) } : rng.signedBytes(t.channels * taps)
      let zp = extreme ? Int32(0) : Int32.random(in: 1...255, using: &rng)
      let q = OutputStage(
        aZeroPoint: zp, aScale: 0.02, wScale: rng.floats(t.channels, 0.001...0.01),
        bias: index % 2 == 0 ? rng.floats(t.channels, -1...1) : nil, relu: index % 2 == 1)
      let sums = reference(t, x, weight, zp: zp)
      let plane = sums.count / t.channels
      XCTAssertEqual(lk_isa_force(Int32(LK_ISA_PORTABLE)), 1)
      let portable = run(t, x, weight, q, 0, t.channels)
      _ = lk_isa_force(-1)
      forEachKernelPath { _, path in
        let name = "\(path) case \(index)"
        let y = run(t, x, weight, q, 0, t.channels)
        XCTAssertTrue(y[sums.count].isNaN, "\(name): wrote past the end")
        for i in 0..<sums.count {
          assertClose(y[i], q.real(acc: sums[i], wsum: 0, column: i / plane), 1e-5, "\(name) output \(i)")
        }
        // The sums are exact on every path; only the output stage's float rounding may differ
        // (an FMA on the SIMD paths).
        for i in 0..<sums.count where abs(y[i] - portable[i]) > 1e-6 * max(1, abs(portable[i])) {
          XCTFail("\(name) output \(i): \(y[i]) against portable \(portable[i])")
          break
        }
        // A range of channels writes those planes and nothing else.
        if t.channels > 2 {
          let part = run(t, x, weight, q, 1, t.channels - 1)
          XCTAssertTrue(part[0..<plane].allSatisfy(\.isNaN), "\(name): wrote channel 0")
          XCTAssertTrue(part[((t.channels - 1) * plane)...].allSatisfy(\.isNaN), "\(name): wrote the last channel")
          XCTAssertEqual(part[plane..<((t.channels - 1) * plane)], y[plane..<((t.channels - 1) * plane)], name)
        }
      }
    }
  }
}
