import CKernels
import LatheCompress
import LatheTensor
import LatheTestSupport
import XCTest

/// QuantizedConv2d over a whole batch against the float convolution of its quantized values, on
/// the geometries the kernel's own tests use (CKernelsTests' KernelQConvTests).
final class QuantizedConv2dTests: XCTestCase {

  /// The layer (whole batch, images over the cores, per-image quantization) computes the fp32
  /// convolution of the quantized input with the dequantized weights, with bias and ReLU.
  func testQuantizedConv2dLayerMatchesTheFloatConvolutionOfItsQuantizedValues() {
    var rng = SeededGenerator(seed: 8)
    for (index, t) in ConvolutionCase.kernelCases.enumerated() {
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
