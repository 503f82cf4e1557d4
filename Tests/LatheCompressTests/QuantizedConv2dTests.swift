import CKernels
import LatheCompress
import LatheTensor
import XCTest

/// QuantizedConv2d over a whole batch against the float convolution of its quantized values, on
/// the geometries the kernel's own tests use (CKernelsTests' KernelQConvTests).
final class QuantizedConv2dTests: XCTestCase {
  struct Case {
    var channels, height, width, outChannels, kh, kw: Int
    var stride = (1, 1)
    var pad = (0, 0, 0, 0)  // top, left, bottom, right
    var dilation = (1, 1)
  }

  static let cases: [Case] = [
    Case(channels: 1, height: 28, width: 28, outChannels: 6, kh: 5, kw: 5, pad: (2, 2, 2, 2)),  // LeNet-5 conv1
    Case(channels: 6, height: 14, width: 14, outChannels: 16, kh: 5, kw: 5),  // LeNet-5 conv2
    Case(
      channels: 3, height: 9, width: 7, outChannels: 17, kh: 3, kw: 2, stride: (2, 1), pad: (1, 2, 0, 1),
      dilation: (2, 2)),
    Case(channels: 2, height: 5, width: 6, outChannels: 33, kh: 3, kw: 3, stride: (1, 2), pad: (1, 1, 1, 1)),
    // Stride 1 with asymmetric padding, dilation, 7 channels (k = 63, not a multiple of 4).
    Case(channels: 7, height: 11, width: 13, outChannels: 13, kh: 3, kw: 3, pad: (0, 2, 1, 0), dilation: (1, 2)),
    // A window wider than half the output: gathered, not read from the padded image.
    Case(channels: 2, height: 6, width: 9, outChannels: 5, kh: 2, kw: 7, pad: (0, 0, 0, 0)),
    // 1x1 (k = 3), one output channel, 20x9 = 180 pixels (11.25 vectors of 16).
    Case(channels: 3, height: 20, width: 9, outChannels: 1, kh: 1, kw: 1),
    // Padding only at the bottom right, 40 output channels, a single output row.
    Case(channels: 4, height: 3, width: 30, outChannels: 40, kh: 3, kw: 3, pad: (0, 0, 0, 1)),
    // Stride 2 both ways, kernel 4 (k = 80), every border padded.
    Case(channels: 5, height: 17, width: 15, outChannels: 9, kh: 4, kw: 4, stride: (2, 2), pad: (1, 1, 2, 2)),
  ]

  /// The layer (whole batch, images over the cores, per-image quantization) computes the fp32
  /// convolution of the quantized input with the dequantized weights, with bias and ReLU.
  func testQuantizedConv2dLayerMatchesTheFloatConvolutionOfItsQuantizedValues() {
    var rng = SeededGenerator(seed: 8)
    for (index, t) in Self.cases.enumerated() {
      let batch = 3
      let x = Tensor<Float>.uniform([batch, t.channels, t.height, t.width], low: -1, high: 2, generator: &rng)
      let weight = Tensor<Float>.uniform(
        [t.outChannels, t.channels, t.kh, t.kw], low: -0.5, high: 0.5, generator: &rng)
      let bias = Tensor<Float>.uniform([t.outChannels], low: -0.2, high: 0.2, generator: &rng)
      let weights = QuantizedWeights(quantizing: weight, granularity: .perChannel)
      let padding = [t.pad.0, t.pad.1, t.pad.2, t.pad.3]
      let inputs = [InputQuantization.fixed(.unsigned(low: -1, high: 2, symmetric: false)), .dynamic(symmetric: false)]
      for input in inputs {
        let layer = QuantizedConv2d(
          weights: weights, bias: bias, input: input, relu: true, inChannels: t.channels, kernelSize: [t.kh, t.kw],
          stride: [t.stride.0, t.stride.1], padding: padding, dilation: [t.dilation.0, t.dilation.1])
        var context = ForwardContext.inference
        let y = layer.forward([Variable(x)], context: &context).value
        // The same arithmetic in fp32: x through quantize/dequantize, the dequantized weights.
        let low = input == .dynamic(symmetric: false) ? x.scalars.min()! : -1
        let high = input == .dynamic(symmetric: false) ? x.scalars.max()! : 2
        let p = QuantizationParameters.unsigned(low: low, high: high, symmetric: false)
        var q = [UInt8](repeating: 0, count: x.count)
        var xq = [Float](repeating: 0, count: x.count)
        lk_quantize_u8(x.scalars, x.count, p.scale, p.zeroPoint, &q)
        lk_dequantize_u8(q, q.count, p.scale, p.zeroPoint, &xq)
        let reference = Variable(Tensor(shape: x.shape, scalars: xq)).conv2d(
          weight: Variable(weights.dequantized(shape: weight.shape)), bias: Variable(bias),
          stride: [t.stride.0, t.stride.1], padding: padding, dilation: [t.dilation.0, t.dilation.1]
        ).relu().value
        XCTAssertEqual(y.shape, reference.shape)
        for i in 0..<y.count {
          assertClose(y.scalars[i], Double(reference.scalars[i]), 1e-4, "case \(index) \(input) output \(i)")
        }
      }
    }
  }
}
