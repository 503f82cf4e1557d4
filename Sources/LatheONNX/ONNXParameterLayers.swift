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
