import CKernels
import LatheTensor
import LatheTestSupport
import XCTest

/// The stride-1 virtual-grid convolution (lk_conv2d_image_direct) on every ISA path against
/// plain loops: the SIMD tiles read the image at each tap's offset, the portable path unfolds
/// it for the BLAS, and both must give one answer.
final class KernelDirectConvTests: XCTestCase {
  struct Geometry {
    var channels, size, outChannels, kernel, pad, dilation: Int
    /// Input channels [c0, c0 + cn) of `channels` (a group's share).
    var c0 = 0
    var cn: Int? = nil
  }

  private func reference(_ g: Geometry, _ x: [Float], _ w: [Float], _ bias: [Float]?, out: Int) -> [Double] {
    let cn = g.cn ?? g.channels
    var y = [Double](repeating: 0, count: g.outChannels * out * out)
    for o in 0..<g.outChannels {
      for oy in 0..<out {
        for ox in 0..<out {
          var s = Double(bias?[o] ?? 0)
          for c in 0..<cn {
            for i in 0..<g.kernel {
              for j in 0..<g.kernel {
                let (iy, ix) = (oy - g.pad + i * g.dilation, ox - g.pad + j * g.dilation)
                guard iy >= 0, iy < g.size, ix >= 0, ix < g.size else { continue }
                s +=
                  Double(w[((o * cn + c) * g.kernel + i) * g.kernel + j])
                  * Double(x[((g.c0 + c) * g.size + iy) * g.size + ix])
              }
            }
          }
          y[(o * out + oy) * out + ox] = s
        }
      }
    }
    return y
  }

  /// LeNet-5's two convolutions, output counts around the 6-row tile, pixel counts that end
  /// inside a 16- or 32-pixel tile, dilation, a channel range, and one product large enough to
  /// go to the BLAS on every path.
  func testEveryPathMatchesPlainLoops() {
    var rng = SeededGenerator(seed: 21)
    let geometries = [
      Geometry(channels: 1, size: 28, outChannels: 6, kernel: 5, pad: 2, dilation: 1),
      Geometry(channels: 6, size: 14, outChannels: 16, kernel: 5, pad: 0, dilation: 1),
      Geometry(channels: 3, size: 9, outChannels: 17, kernel: 3, pad: 1, dilation: 1),
      Geometry(channels: 2, size: 11, outChannels: 1, kernel: 3, pad: 0, dilation: 2),
      Geometry(channels: 5, size: 6, outChannels: 7, kernel: 2, pad: 1, dilation: 1, c0: 2, cn: 3),
      Geometry(channels: 32, size: 24, outChannels: 64, kernel: 3, pad: 1, dilation: 1),
    ]
    for g in geometries {
      let cn = g.cn ?? g.channels
      let out = g.size + 2 * g.pad - g.dilation * (g.kernel - 1)
      var window = lk_window(
        batch: 1, channels: Int32(g.channels), height: Int32(g.size), width: Int32(g.size),
        kernel_h: Int32(g.kernel), kernel_w: Int32(g.kernel), stride_h: 1, stride_w: 1, pad_top: Int32(g.pad),
        pad_left: Int32(g.pad), dilation_h: Int32(g.dilation), dilation_w: Int32(g.dilation), out_h: Int32(out),
        out_w: Int32(out), pad_bottom: Int32(g.pad), pad_right: Int32(g.pad))
      let x = rng.floats(g.channels * g.size * g.size, -1...1)
      let w = rng.floats(g.outChannels * cn * g.kernel * g.kernel, -1...1)
      let bias = g.outChannels % 2 == 0 ? rng.floats(g.outChannels, -1...1) : nil
      let want = reference(g, x, w, bias, out: out)
      forEachKernelPath { _, path in
        var scratch = [Float](
          repeating: .nan, count: lk_conv2d_direct_scratch(&window, Int32(cn), Int32(g.outChannels)))
        XCTAssertGreaterThan(scratch.count, 0)
        var y = [Float](repeating: .nan, count: want.count)
        XCTAssertEqual(
          lk_conv2d_image_direct(
            &window, x, Int32(g.c0), Int32(cn), w, Int32(g.outChannels), bias, &y, &scratch), 1)
        let worst = zip(y, want).map { abs(Double($0) - $1) }.max() ?? 0
        XCTAssertLessThan(worst, 1e-4 * Double(cn * g.kernel * g.kernel).squareRoot(), "\(path) \(g)")
      }
    }
  }
}
