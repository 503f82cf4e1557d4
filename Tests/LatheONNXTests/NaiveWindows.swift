import Foundation
import LatheTensor

/// Direct, loop-by-loop convolution, transposed convolution and pooling over any number of
/// spatial axes, written from ONNX's operator definitions, to check the importer's layers.
enum NaiveWindows {
  /// Every coordinate of `shape`, row-major.
  static func coordinates(_ shape: [Int]) -> [[Int]] {
    var all: [[Int]] = [[]]
    for size in shape {
      var next: [[Int]] = []
      for prefix in all {
        for i in 0..<size { next.append(prefix + [i]) }
      }
      all = next
    }
    return all
  }

  static func flat(_ c: [Int], _ shape: [Int]) -> Int {
    var index = 0
    for d in 0..<shape.count { index = index * shape[d] + c[d] }
    return index
  }

  /// The input position a window offset reads: output · stride − pad + offset · dilation.
  static func position(_ out: [Int], _ k: [Int], stride: [Int], pads: [Int], dilation: [Int]) -> [Int] {
    var p: [Int] = []
    for d in 0..<k.count {
      let start: Int = out[d] * stride[d] - pads[d]
      p.append(start + k[d] * dilation[d])
    }
    return p
  }

  static func within(_ p: [Int], _ sizes: [Int]) -> Bool {
    for d in 0..<p.count where p[d] < 0 || p[d] >= sizes[d] { return false }
    return true
  }

  /// ONNX Conv: y[n, o, p] = b[o] + Σ x[n, g·C/g + c, p·s − pad + k·d] · w[o, c, k].
  static func conv(
    _ x: Tensor<Float>, _ w: Tensor<Float>, bias: [Float]?, stride: [Int], pads: [Int], dilation: [Int], groups: Int
  ) -> Tensor<Float> {
    let spatial = x.shape.count - 2
    let sizes = Array(x.shape.dropFirst(2))
    let kernel = Array(w.shape.dropFirst(2))
    var outputs: [Int] = []
    for d in 0..<spatial {
      let span: Int = sizes[d] + pads[d] + pads[d + spatial] - dilation[d] * (kernel[d] - 1) - 1
      outputs.append(span / stride[d] + 1)
    }
    let (outChannels, perGroup) = (w.shape[0], w.shape[1])
    let shape = [x.shape[0], outChannels] + outputs
    let (xs, ws) = (x.contiguous().scalars, w.contiguous().scalars)
    var y = [Float](repeating: 0, count: shape.reduce(1, *))
    for c in coordinates(shape) {
      let o = c[1]
      let group = o / (outChannels / groups)
      var total: Float = bias?[o] ?? 0
      for ic in 0..<perGroup {
        for k in coordinates(kernel) {
          let p = position(Array(c.dropFirst(2)), k, stride: stride, pads: pads, dilation: dilation)
          guard within(p, sizes) else { continue }
          let input = xs[flat([c[0], group * perGroup + ic] + p, x.shape)]
          total += input * ws[flat([o, ic] + k, w.shape)]
        }
      }
      y[flat(c, shape)] = total
    }
    return Tensor(shape: shape, scalars: y)
  }

  /// ONNX ConvTranspose as a scatter: x[n, c, i] adds x · w[c, o, k] to y[n, o, i·s − pad + k·d].
  static func convTranspose(
    _ x: Tensor<Float>, _ w: Tensor<Float>, bias: [Float]?, stride: [Int], pads: [Int], dilation: [Int],
    outputPadding: [Int], groups: Int
  ) -> Tensor<Float> {
    let spatial = x.shape.count - 2
    let sizes = Array(x.shape.dropFirst(2))
    let kernel = Array(w.shape.dropFirst(2))
    var outputs: [Int] = []
    for d in 0..<spatial {
      let extent: Int = (kernel[d] - 1) * dilation[d] + 1
      outputs.append(stride[d] * (sizes[d] - 1) + outputPadding[d] + extent - pads[d] - pads[d + spatial])
    }
    let (inPerGroup, outPerGroup) = (w.shape[0] / groups, w.shape[1])
    let shape = [x.shape[0], outPerGroup * groups] + outputs
    let (xs, ws) = (x.contiguous().scalars, w.contiguous().scalars)
    var y = [Float](repeating: 0, count: shape.reduce(1, *))
    for c in coordinates(shape) { y[flat(c, shape)] = bias?[c[1]] ?? 0 }
    for c in coordinates(x.shape) {
      let group = c[1] / inPerGroup
      let input = xs[flat(c, x.shape)]
      for o in 0..<outPerGroup {
        for k in coordinates(kernel) {
          let p = position(Array(c.dropFirst(2)), k, stride: stride, pads: pads, dilation: dilation)
          guard within(p, outputs) else { continue }
          y[flat([c[0], group * outPerGroup + o] + p, shape)] += input * ws[flat([c[1], o] + k, w.shape)]
        }
      }
    }
    return Tensor(shape: shape, scalars: y)
  }

  /// ONNX MaxPool / AveragePool; with `ceilMode` a window must start inside the input or its
  /// begin padding. Returns the values and, for max, each winner's flat input index.
  static func pool(
    _ x: Tensor<Float>, isMax: Bool, kernel: [Int], stride: [Int], pads: [Int], dilation: [Int], ceilMode: Bool,
    countIncludePad: Bool
  ) -> (values: Tensor<Float>, indices: [Int]) {
    let spatial = kernel.count
    let sizes = Array(x.shape.dropFirst(2))
    var outputs: [Int] = []
    for d in 0..<spatial {
      let span: Int = sizes[d] + pads[d] + pads[d + spatial] - dilation[d] * (kernel[d] - 1) - 1
      var out = (ceilMode ? (span + stride[d] - 1) / stride[d] : span / stride[d]) + 1
      if ceilMode && (out - 1) * stride[d] >= sizes[d] + pads[d] { out -= 1 }
      outputs.append(out)
    }
    var padded: [Int] = []
    for d in 0..<spatial { padded.append(sizes[d] + pads[d] + pads[d + spatial]) }
    let shape = Array(x.shape.prefix(2)) + outputs
    let xs = x.contiguous().scalars
    var values: [Float] = []
    var indices: [Int] = []
    for c in coordinates(shape) {
      var best = -Float.infinity
      var winner = -1
      var sum: Float = 0
      var count = 0
      for k in coordinates(kernel) {
        let p = position(Array(c.dropFirst(2)), k, stride: stride, pads: pads, dilation: dilation)
        var shifted: [Int] = []
        for d in 0..<spatial { shifted.append(p[d] + pads[d]) }
        let inside = within(p, sizes)
        if countIncludePad ? within(shifted, padded) : inside { count += 1 }
        guard inside else { continue }
        let i = flat([c[0], c[1]] + p, x.shape)
        sum += xs[i]
        if xs[i] > best {
          best = xs[i]
          winner = i
        }
      }
      values.append(isMax ? best : sum / Float(count))
      indices.append(winner)
    }
    return (Tensor(shape: shape, scalars: values), indices)
  }
}
