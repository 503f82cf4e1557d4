import Foundation
import LatheTensor

/// ONNX Conv over three or more spatial axes (1-D and 2-D imports use the engine's Conv2d),
/// weight [out, in/groups, kernel...]. Trains: patches are gathered through an index map.
public final class ONNXConv: Layer {
  public let weight: Parameter
  public let bias: Parameter?
  let window: WindowND
  public let groups: Int

  init(weight: Parameter, bias: Parameter?, window: WindowND, groups: Int) {
    self.weight = weight
    self.bias = bias
    self.window = window
    self.groups = groups
  }

  public var spec: LayerSpec {
    LayerSpec(
      op: "onnx.Conv",
      attributes: [
        "in": .int(weight.shape[1] * groups), "out": .int(weight.shape[0]), "kernel": .ints(window.kernel),
        "stride": .ints(window.stride), "pads": .ints(window.pads), "dilation": .ints(window.dilation),
        "groups": .int(groups), "bias": .bool(bias != nil),
      ])
  }
  public var parameters: [(name: String, parameter: Parameter)] {
    [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    inputs[0].convolution(weight: weight.variable(), bias: bias?.variable(), window: window, groups: groups)
  }

  public func copy() -> Layer { ONNXConv(weight: weight.copy(), bias: bias?.copy(), window: window, groups: groups) }
}

/// ONNX ConvTranspose over any number of spatial axes, weight [in, out/groups, kernel...]. Two
/// axes run `Variable.convTranspose2d` (a GEMM and col2im per image); one and three axes run
/// as a convolution of the zero-stuffed, padded input with the flipped kernel, reusing the
/// N-d convolution and its gradients.
public final class ONNXConvTranspose: Layer {
  public let weight: Parameter
  public let bias: Parameter?
  public let stride: [Int]
  /// ONNX order: every spatial axis's begin, then every axis's end.
  public let padding: [Int]
  public let dilation: [Int]
  public let outputPadding: [Int]
  public let groups: Int

  public init(
    weight: Parameter, bias: Parameter?, stride: [Int], padding: [Int], dilation: [Int], outputPadding: [Int],
    groups: Int
  ) {
    self.weight = weight
    self.bias = bias
    self.stride = stride
    self.padding = padding
    self.dilation = dilation
    self.outputPadding = outputPadding
    self.groups = groups
  }

  var kernel: [Int] { Array(weight.shape.dropFirst(2)) }

  public var spec: LayerSpec {
    LayerSpec(
      op: "onnx.ConvTranspose",
      attributes: [
        "in": .int(weight.shape[0]), "out": .int(weight.shape[1] * groups), "kernel": .ints(kernel),
        "stride": .ints(stride), "padding": .ints(padding), "dilation": .ints(dilation),
        "output_padding": .ints(outputPadding), "groups": .int(groups), "bias": .bool(bias != nil),
      ])
  }
  public var parameters: [(name: String, parameter: Parameter)] {
    [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    let spatial = kernel.count
    if spatial == 2 {
      // The GEMM-and-col2im kernel; other ranks take the zero-stuffing form below.
      return x.convTranspose2d(
        weight: weight.variable(), bias: bias?.variable(), stride: stride, padding: padding,
        outputPadding: outputPadding, dilation: dilation, groups: groups)
    }
    let sizes = Array(x.shape.dropFirst(2))
    // The stuffed input: stride - 1 zeros between elements, then (kernel extent - 1 - pad)
    // zeros before and after each axis (plus output_padding after).
    var before: [Int] = []
    var stuffedSizes: [Int] = []
    for d in 0..<spatial {
      let extent = dilation[d] * (kernel[d] - 1)
      let after = extent - padding[d + spatial] + outputPadding[d]
      before.append(extent - padding[d])
      stuffedSizes.append((sizes[d] - 1) * stride[d] + 1 + before[d] + after)
    }
    let inputStrides = Tensor<Float>.rowMajorStrides(x.shape)
    let stuffedShape = Array(x.shape.prefix(2)) + stuffedSizes
    let stuffed = IndexMap.build(stuffedShape) { p in
      var flat = p[0] * inputStrides[0] + p[1] * inputStrides[1]
      for d in 0..<spatial {
        let y = p[d + 2] - before[d]
        guard y >= 0, y % stride[d] == 0, y / stride[d] < sizes[d] else { return -1 }
        flat += y / stride[d] * inputStrides[d + 2]
      }
      return flat
    }
    let (inPerGroup, outPerGroup) = (weight.shape[0] / groups, weight.shape[1])
    let flippedShape = [outPerGroup * groups, inPerGroup] + kernel
    let weightStrides = Tensor<Float>.rowMajorStrides(weight.shape)
    let flipped = IndexMap.build(flippedShape) { p in
      let (group, o) = (p[0] / outPerGroup, p[0] % outPerGroup)
      var flat = (group * inPerGroup + p[1]) * weightStrides[0] + o * weightStrides[1]
      for d in 0..<spatial { flat += (kernel[d] - 1 - p[d + 2]) * weightStrides[d + 2] }
      return flat
    }
    let window = WindowND(
      kernel: kernel, stride: Array(repeating: 1, count: spatial), pads: Array(repeating: 0, count: 2 * spatial),
      dilation: dilation)
    return x.gathered(stuffed, shape: stuffedShape).convolution(
      weight: weight.variable().gathered(flipped, shape: flippedShape), bias: bias?.variable(), window: window,
      groups: groups)
  }

  public func copy() -> Layer {
    ONNXConvTranspose(
      weight: weight.copy(), bias: bias?.copy(), stride: stride, padding: padding, dilation: dilation,
      outputPadding: outputPadding, groups: groups)
  }
}
