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

  /// Elements per scale along `axis` (opset 21's block_size); 0 when not blocked. Blocked
  /// scales have the input's rank, the blocked axis divided by the block size (rounding up).
  public let blockSize: Int

  public init(
    _ direction: Direction, scale: Tensor<Float>, zeroPoint: Tensor<Float>, axis: Int, range: ClosedRange<Int>,
    blockSize: Int = 0
  ) {
    self.blockSize = blockSize
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
        "qmin": .int(range.lowerBound), "qmax": .int(range.upperBound), "block_size": .int(blockSize),
        "scale_shape": .ints(scale.shape),
      ])
  }
  public var parameters: [(name: String, parameter: Parameter)] { [("scale", scale), ("zero_point", zeroPoint)] }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    var shape = [Int](repeating: 1, count: x.shape.count)
    if scale.shape.count == 1 && !shape.isEmpty { shape[(axis + shape.count) % shape.count] = scale.value.count }
    let (s, z) =
      blockSize > 0
      ? (blocked(scale.value, x.shape), blocked(zeroPoint.value, x.shape))
      : (
        scale.value.count == 1 ? scale.value.reshaped([]) : scale.value.reshaped(shape),
        zeroPoint.value.count == 1 ? zeroPoint.value.reshaped([]) : zeroPoint.value.reshaped(shape)
      )
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

  /// A blocked scale or zero point spread over the input's shape: each element repeated over
  /// its block along `axis`, and over any axis where it has size 1 (the batch, when the file's
  /// shapes were fixed at batch 1).
  private func blocked(_ values: Tensor<Float>, _ shape: [Int]) -> Tensor<Float> {
    let strides = Tensor<Float>.rowMajorStrides(values.shape)
    let map = IndexMap.build(shape) { c in
      var flat = 0
      for d in 0..<c.count where values.shape[d] > 1 { flat += (d == axis ? c[d] / blockSize : c[d]) * strides[d] }
      return flat
    }
    let scalars = values.contiguous().scalars
    return Tensor(shape: shape, scalars: map.map { scalars[$0] })
  }

  public func copy() -> Layer {
    ONNXQuantization(
      direction, scale: scale.value, zeroPoint: zeroPoint.value, axis: axis, range: range, blockSize: blockSize)
  }
}
