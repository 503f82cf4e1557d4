/// A convolution geometry the int8 kernels are checked on: channels, image, kernel, stride,
/// padding (top, left, bottom, right) and dilation. The C kernel tests (CKernelsTests) and the
/// QuantizedConv2d layer tests (LatheCompressTests) run the same list.
public struct ConvolutionCase: Sendable {
  public var channels, height, width, outChannels, kh, kw: Int
  public var stride = (1, 1)
  public var pad = (0, 0, 0, 0)
  public var dilation = (1, 1)

  public init(
    channels: Int, height: Int, width: Int, outChannels: Int, kh: Int, kw: Int, stride: (Int, Int) = (1, 1),
    pad: (Int, Int, Int, Int) = (0, 0, 0, 0), dilation: (Int, Int) = (1, 1)
  ) {
    (self.channels, self.height, self.width, self.outChannels, self.kh, self.kw) =
      (channels, height, width, outChannels, kh, kw)
    (self.stride, self.pad, self.dilation) = (stride, pad, dilation)
  }

  public static let kernelCases: [ConvolutionCase] = [
    // LeNet-5's conv1 and conv2.
    ConvolutionCase(channels: 1, height: 28, width: 28, outChannels: 6, kh: 5, kw: 5, pad: (2, 2, 2, 2)),
    ConvolutionCase(channels: 6, height: 14, width: 14, outChannels: 16, kh: 5, kw: 5),
    ConvolutionCase(
      channels: 3, height: 9, width: 7, outChannels: 17, kh: 3, kw: 2, stride: (2, 1), pad: (1, 2, 0, 1),
      dilation: (2, 2)),
    ConvolutionCase(channels: 2, height: 5, width: 6, outChannels: 33, kh: 3, kw: 3, stride: (1, 2), pad: (1, 1, 1, 1)),
    // Stride 1 with asymmetric padding, dilation, 7 channels (k = 63, not a multiple of 4).
    ConvolutionCase(
      channels: 7, height: 11, width: 13, outChannels: 13, kh: 3, kw: 3, pad: (0, 2, 1, 0), dilation: (1, 2)),
    // A window wider than half the output: gathered, not read from the padded image.
    ConvolutionCase(channels: 2, height: 6, width: 9, outChannels: 5, kh: 2, kw: 7, pad: (0, 0, 0, 0)),
    // 1x1 (k = 3), one output channel, 20x9 = 180 pixels (11.25 vectors of 16).
    ConvolutionCase(channels: 3, height: 20, width: 9, outChannels: 1, kh: 1, kw: 1),
    // Padding only at the bottom right, 40 output channels, a single output row.
    ConvolutionCase(channels: 4, height: 3, width: 30, outChannels: 40, kh: 3, kw: 3, pad: (0, 0, 0, 1)),
    // Stride 2 both ways, kernel 4 (k = 80), every border padded.
    ConvolutionCase(
      channels: 5, height: 17, width: 15, outChannels: 9, kh: 4, kw: 4, stride: (2, 2), pad: (1, 1, 2, 2)),
  ]
}
