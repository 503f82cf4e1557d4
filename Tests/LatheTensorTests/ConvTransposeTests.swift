import LatheTensor
import XCTest

/// convTranspose2d (a GEMM per image and group, then col2im) against a direct scatter, and
/// its gradients, over strides, paddings (negative end pads included, as ONNX's output_shape
/// makes them), output padding, dilation, groups, batches and bias.
final class ConvTransposeTests: XCTestCase {
  struct Case {
    var input: [Int]
    var weight: [Int]
    var stride = [1, 1]
    var padding = [0, 0, 0, 0]
    var outputPadding = [0, 0]
    var dilation = [1, 1]
    var groups = 1
    var bias = true
  }

  let cases: [Case] = [
    Case(input: [1, 2, 3, 3], weight: [2, 3, 3, 3]),
    Case(input: [3, 4, 4, 5], weight: [4, 2, 2, 2], stride: [2, 2], groups: 2),
    Case(input: [2, 2, 3, 4], weight: [2, 1, 3, 3], stride: [2, 2], padding: [1, 0, 1, 1], outputPadding: [1, 0]),
    Case(input: [1, 3, 4, 3], weight: [3, 2, 3, 2], stride: [3, 1], padding: [0, 1, -1, 0], dilation: [1, 2]),
    Case(input: [2, 6, 2, 3], weight: [6, 1, 3, 3], stride: [1, 2], padding: [1, 1, 1, 1], groups: 3, bias: false),
  ]

  /// y[n, g·og + o, iy·s − pad + i·d, ...] += x[n, g·cg + ci, iy, ix] · w[g·cg + ci, o, i, j]
  func scatter(_ x: Tensor<Float>, _ w: Tensor<Float>, _ b: Tensor<Float>?, _ c: Case) -> Tensor<Float> {
    let (n, cin, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (og, kh, kw) = (w.shape[1], w.shape[2], w.shape[3])
    let cg = cin / c.groups
    let outC = og * c.groups
    let outH = (h - 1) * c.stride[0] - c.padding[0] - c.padding[2] + c.dilation[0] * (kh - 1) + 1 + c.outputPadding[0]
    let outW = (wd - 1) * c.stride[1] - c.padding[1] - c.padding[3] + c.dilation[1] * (kw - 1) + 1 + c.outputPadding[1]
    var y = [Float](repeating: 0, count: n * outC * outH * outW)
    for img in 0..<n {
      for ch in 0..<cin {
        let g = ch / cg
        for iy in 0..<h {
          for ix in 0..<wd {
            for o in 0..<og {
              for i in 0..<kh {
                for j in 0..<kw {
                  let oy = iy * c.stride[0] - c.padding[0] + i * c.dilation[0]
                  let ox = ix * c.stride[1] - c.padding[1] + j * c.dilation[1]
                  guard oy >= 0, oy < outH, ox >= 0, ox < outW else { continue }
                  y[((img * outC + g * og + o) * outH + oy) * outW + ox] += x[img, ch, iy, ix] * w[ch, o, i, j]
                }
              }
            }
          }
        }
      }
      if let b {
        for o in 0..<outC {
          for p in 0..<(outH * outW) { y[(img * outC + o) * outH * outW + p] += b[o] }
        }
      }
    }
    return Tensor(shape: [n, outC, outH, outW], scalars: y)
  }

  func testForwardMatchesScatter() {
    for (index, c) in cases.enumerated() {
      let x = TestData.uniform(c.input, seed: 1000 + UInt64(index))
      let w = TestData.uniform(c.weight, seed: 1010 + UInt64(index))
      let b = c.bias ? TestData.uniform([c.weight[1] * c.groups], seed: 1020 + UInt64(index)) : nil
      let y = Variable(x).convTranspose2d(
        weight: Variable(w), bias: b.map { Variable($0) }, stride: c.stride, padding: c.padding,
        outputPadding: c.outputPadding, dilation: c.dilation, groups: c.groups
      ).value
      assertClose(y, scatter(x, w, b, c), "case \(index)")
    }
  }

  func testGradients() {
    for (index, c) in cases.enumerated() {
      var inputs = [TestData.uniform(c.input, seed: 1030 + UInt64(index)), TestData.uniform(c.weight, seed: 1040)]
      if c.bias { inputs.append(TestData.uniform([c.weight[1] * c.groups], seed: 1050)) }
      checkGradients(inputs) { v in
        v[0].convTranspose2d(
          weight: v[1], bias: c.bias ? v[2] : nil, stride: c.stride, padding: c.padding,
          outputPadding: c.outputPadding, dilation: c.dilation, groups: c.groups)
      }
    }
  }
}
