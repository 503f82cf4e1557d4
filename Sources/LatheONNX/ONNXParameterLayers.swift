import Foundation
import LatheTensor

/// A constant tensor as a graph node: initializers that an operator reads at run time (the
/// second operand of Mul, a Concat part). Not trainable: it is data, not a weight.
public final class ONNXConstantLayer: Layer {
  public let value: Parameter

  public init(_ tensor: Tensor<Float>) { value = Parameter(tensor, isTrainable: false) }

  public var spec: LayerSpec { LayerSpec(op: "onnx.Constant", attributes: ["shape": .ints(value.shape)]) }
  public var parameters: [(name: String, parameter: Parameter)] { [("value", value)] }
  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable { Variable(value.value) }
  public func copy() -> Layer { ONNXConstantLayer(value.value) }
}

/// PRelu: x for x > 0, slope * x otherwise, with a trainable slope broadcast against x.
public final class ONNXPRelu: Layer {
  public let slope: Parameter

  public init(slope: Tensor<Float>) { self.slope = Parameter(slope) }

  public var spec: LayerSpec { LayerSpec(op: "onnx.PRelu", attributes: ["shape": .ints(slope.shape)]) }
  public var parameters: [(name: String, parameter: Parameter)] { [("slope", slope)] }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    let positive = x.relu()
    // x = relu(x) - relu(-x); the negative part is scaled by the slope.
    return positive - slope.variable() * (-x).relu()
  }

  public func copy() -> Layer { ONNXPRelu(slope: slope.value) }
}

/// 2-D transposed convolution (ONNX ConvTranspose), weight [in, out/groups, kh, kw]. Runs as a
/// convolution of the zero-stuffed, padded input with the flipped kernel, so it reuses the
/// engine's conv2d and its gradients.
public final class ONNXConvTranspose2d: Layer {
  public let weight: Parameter
  public let bias: Parameter?
  public let stride: [Int]
  /// top, left, bottom, right.
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

  public var spec: LayerSpec {
    LayerSpec(
      op: "onnx.ConvTranspose",
      attributes: [
        "in": .int(weight.shape[0]), "out": .int(weight.shape[1] * groups),
        "kernel": .ints([weight.shape[2], weight.shape[3]]), "stride": .ints(stride), "padding": .ints(padding),
        "dilation": .ints(dilation), "output_padding": .ints(outputPadding), "groups": .int(groups),
        "bias": .bool(bias != nil),
      ])
  }
  public var parameters: [(name: String, parameter: Parameter)] {
    [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (kh, kw) = (weight.shape[2], weight.shape[3])
    let before = [dilation[0] * (kh - 1) - padding[0], dilation[1] * (kw - 1) - padding[1]]
    let after = [
      dilation[0] * (kh - 1) - padding[2] + outputPadding[0], dilation[1] * (kw - 1) - padding[3] + outputPadding[1],
    ]
    let height = (h - 1) * stride[0] + 1 + before[0] + after[0]
    let width = (w - 1) * stride[1] + 1 + before[1] + after[1]
    let stuffed = IndexMap.build([n, c, height, width]) { p in
      let (y, xx) = (p[2] - before[0], p[3] - before[1])
      guard y >= 0, xx >= 0, y % stride[0] == 0, xx % stride[1] == 0, y / stride[0] < h, xx / stride[1] < w else {
        return -1
      }
      return ((p[0] * c + p[1]) * h + y / stride[0]) * w + xx / stride[1]
    }
    let input = x.gathered(stuffed, shape: [n, c, height, width])
    let (inPerGroup, outPerGroup) = (weight.shape[0] / groups, weight.shape[1])
    let flippedShape = [outPerGroup * groups, inPerGroup, kh, kw]
    let flipped = IndexMap.build(flippedShape) { p in
      let (group, o) = (p[0] / outPerGroup, p[0] % outPerGroup)
      return (((group * inPerGroup + p[1]) * outPerGroup + o) * kh + (kh - 1 - p[2])) * kw + (kw - 1 - p[3])
    }
    return input.conv2d(
      weight: weight.variable().gathered(flipped, shape: flippedShape), bias: bias?.variable(), stride: [1, 1],
      padding: [0, 0, 0, 0], dilation: dilation, groups: groups)
  }

  public func copy() -> Layer {
    ONNXConvTranspose2d(
      weight: weight.copy(), bias: bias?.copy(), stride: stride, padding: padding, dilation: dilation,
      outputPadding: outputPadding, groups: groups)
  }
}

/// QuantizeLinear or DequantizeLinear with constant scale and zero point (per tensor, or per
/// channel along `axis`). Integers travel as fp32 values; the gradient passes straight through
/// (scaled), as in quantization-aware training.
public final class ONNXQuantization: Layer {
  public enum Direction: String, Sendable { case quantize, dequantize }
  public let direction: Direction
  public let scale: Parameter
  public let zeroPoint: Parameter
  public let axis: Int
  /// The integer type's range: 0...255 for uint8, -128...127 for int8.
  public let range: ClosedRange<Int>

  public init(
    _ direction: Direction, scale: Tensor<Float>, zeroPoint: Tensor<Float>, axis: Int, range: ClosedRange<Int>
  ) {
    self.direction = direction
    self.scale = Parameter(scale, isTrainable: false)
    self.zeroPoint = Parameter(zeroPoint, isTrainable: false)
    self.axis = axis
    self.range = range
  }

  public var spec: LayerSpec {
    LayerSpec(
      op: direction == .quantize ? "onnx.QuantizeLinear" : "onnx.DequantizeLinear",
      attributes: [
        "channels": .int(scale.value.count), "per_channel": .bool(scale.shape.count == 1), "axis": .int(axis),
        "qmin": .int(range.lowerBound), "qmax": .int(range.upperBound),
      ])
  }
  public var parameters: [(name: String, parameter: Parameter)] { [("scale", scale), ("zero_point", zeroPoint)] }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    var shape = [Int](repeating: 1, count: x.shape.count)
    if scale.shape.count == 1 && !shape.isEmpty { shape[(axis + shape.count) % shape.count] = scale.value.count }
    let s = scale.value.count == 1 ? scale.value.reshaped([]) : scale.value.reshaped(shape)
    let z = zeroPoint.value.count == 1 ? zeroPoint.value.reshaped([]) : zeroPoint.value.reshaped(shape)
    let (low, high) = (Float(range.lowerBound), Float(range.upperBound))
    switch direction {
    case .quantize:
      let scaled = x.value / s
      let y = (scaled.mapFloat { $0.rounded(.toNearestOrEven) } + z).mapFloat { min(max($0, low), high) }
      return Variable(y, parents: [x]) { g in [(g / s).sumToShape(x.shape)] }
    case .dequantize:
      let y = (x.value - z) * s
      return Variable(y, parents: [x]) { g in [(g * s).sumToShape(x.shape)] }
    }
  }

  public func copy() -> Layer {
    ONNXQuantization(direction, scale: scale.value, zeroPoint: zeroPoint.value, axis: axis, range: range)
  }
}
