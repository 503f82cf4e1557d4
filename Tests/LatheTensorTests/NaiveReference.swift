import LatheTensor

// Reference implementations written as plain loops over NCHW indices, independent of the
// kernels under test. Slow, obvious, and only for small tensors.

enum NaiveReference {
  /// Direct convolution: one loop per index of output and window (PyTorch's conv2d semantics).
  static func conv2d(
    _ x: Tensor<Float>, _ w: Tensor<Float>, bias: Tensor<Float>?, stride: [Int], padding: [Int], dilation: [Int],
    groups: Int
  ) -> Tensor<Float> {
    let (n, c, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (outC, kh, kw) = (w.shape[0], w.shape[2], w.shape[3])
    let pad = padding.count == 2 ? padding + padding : padding
    let oh = (h + pad[0] + pad[2] - dilation[0] * (kh - 1) - 1) / stride[0] + 1
    let ow = (wd + pad[1] + pad[3] - dilation[1] * (kw - 1) - 1) / stride[1] + 1
    let cg = c / groups
    let og = outC / groups
    // Flat row-major indices into plain arrays (a Tensor subscript per element made the large-
    // image cases take seconds).
    let (xs, ws, bs) = (x.scalars, w.scalars, bias?.scalars)
    var ys = [Float](repeating: 0, count: n * outC * oh * ow)
    for b in 0..<n {
      for o in 0..<outC {
        let group = o / og
        for oy in 0..<oh {
          for ox in 0..<ow {
            var total = bs?[o] ?? 0
            for ci in 0..<cg {
              for i in 0..<kh {
                for j in 0..<kw {
                  let iy = oy * stride[0] - pad[0] + i * dilation[0]
                  let ix = ox * stride[1] - pad[1] + j * dilation[1]
                  guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                  total += xs[((b * c + group * cg + ci) * h + iy) * wd + ix] * ws[((o * cg + ci) * kh + i) * kw + j]
                }
              }
            }
            ys[((b * outC + o) * oh + oy) * ow + ox] = total
          }
        }
      }
    }
    let y = Tensor<Float>(shape: [n, outC, oh, ow], scalars: ys)
    return y
  }

  /// Max or average pooling with `padding` [top, left, bottom, right] (or [h, w]), `dilation`
  /// and PyTorch's ceil-mode rule. With `countIncludePad` the divisor counts the window's cells
  /// inside the padded input (PyTorch; ONNX for asymmetric pads); otherwise those inside the input.
  static func pool2d(
    _ x: Tensor<Float>, kernel: [Int], stride: [Int], padding: [Int], dilation: [Int] = [1, 1], ceilMode: Bool,
    average: Bool, countIncludePad: Bool
  ) -> Tensor<Float> {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let pad = padding.count == 2 ? padding + padding : padding
    let spanH = dilation[0] * (kernel[0] - 1) + 1
    let spanW = dilation[1] * (kernel[1] - 1) + 1
    let oh = pooledSize(h, spanH, stride[0], pad[0], pad[2], ceilMode)
    let ow = pooledSize(w, spanW, stride[1], pad[1], pad[3], ceilMode)
    var y = Tensor<Float>.zeros([n, c, oh, ow])
    for b in 0..<n {
      for ch in 0..<c {
        for oy in 0..<oh {
          for ox in 0..<ow {
            var best = -Float.infinity
            var total: Float = 0
            var inside = 0
            var padded = 0
            for i in 0..<kernel[0] {
              for j in 0..<kernel[1] {
                let iy = oy * stride[0] - pad[0] + i * dilation[0]
                let ix = ox * stride[1] - pad[1] + j * dilation[1]
                if iy >= -pad[0] && iy < h + pad[2] && ix >= -pad[1] && ix < w + pad[3] { padded += 1 }
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                best = max(best, x[b, ch, iy, ix])
                total += x[b, ch, iy, ix]
                inside += 1
              }
            }
            y[b, ch, oy, ox] = average ? total / Float(countIncludePad ? padded : inside) : best
          }
        }
      }
    }
    return y
  }

  /// PyTorch's pooling output size for a window spanning `kernel` cells: floor or ceil of
  /// (in + padding − kernel) / s, plus one; in ceil mode the last window must start inside the
  /// input or the leading padding.
  static func pooledSize(_ input: Int, _ kernel: Int, _ stride: Int, _ before: Int, _ after: Int, _ ceilMode: Bool)
    -> Int
  {
    let quotient = Double(input + before + after - kernel) / Double(stride)
    var out = Int(ceilMode ? quotient.rounded(.up) : quotient.rounded(.down)) + 1
    if ceilMode && (out - 1) * stride >= input + before { out -= 1 }
    return out
  }

  /// [m, k] · [k, n] by the triple loop, accumulated in Double.
  static func matmul(_ a: Tensor<Float>, _ b: Tensor<Float>) -> Tensor<Float> {
    let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
    var c = Tensor<Float>.zeros([m, n])
    for i in 0..<m {
      for j in 0..<n {
        var total = 0.0
        for l in 0..<k { total += Double(a[i, l]) * Double(b[l, j]) }
        c[i, j] = Float(total)
      }
    }
    return c
  }

  /// The matrix transpose by explicit copying.
  static func transpose(_ a: Tensor<Float>) -> Tensor<Float> {
    var t = Tensor<Float>.zeros([a.shape[1], a.shape[0]])
    for i in 0..<a.shape[0] {
      for j in 0..<a.shape[1] { t[j, i] = a[i, j] }
    }
    return t
  }
}
