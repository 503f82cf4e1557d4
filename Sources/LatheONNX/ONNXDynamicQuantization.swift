import Foundation
import LatheTensor

/// One output of ONNX's DynamicQuantizeLinear: x quantized to uint8 with a scale and zero point
/// computed from its own range (widened to hold 0), or that scale, or that zero point. Each
/// output the node uses is its own layer, as for `ONNXTopK`. The scale is
/// (max - min) / 255 (1/255 when the range is empty); the zero point is -min/scale saturated to
/// 0...255 and rounded half to even; y is x/scale rounded half to even plus the zero point,
/// saturated. The outputs are integers (or a scale) chosen by rounding: no gradient flows.
public final class ONNXDynamicQuantization: Layer {
  public enum Output: String, Sendable, CaseIterable {
    case quantized, scale
    case zeroPoint = "zero_point"

    /// The node output this is.
    var index: Int {
      switch self {
      case .quantized: 0
      case .scale: 1
      case .zeroPoint: 2
      }
    }
  }

  public let output: Output

  public init(_ output: Output) { self.output = output }

  public func copy() -> Layer { ONNXDynamicQuantization(output) }

  /// The scale and zero point ONNX's reference derives from the values (in fp32, as it does).
  public static func parameters(of values: [Float]) -> (scale: Float, zeroPoint: Float) {
    let high = max(0, values.max() ?? 0)
    let low = min(0, values.min() ?? 0)
    let scale = (high == low ? 1 : high - low) / 255
    let zeroPoint = min(max(0 - low / scale, 0), 255).rounded(.toNearestOrEven)
    return (scale, zeroPoint)
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    let values = x.value.contiguous().scalars
    let (scale, zeroPoint) = Self.parameters(of: values)
    let y: Tensor<Float>
    switch output {
    case .quantized:
      let levels = values.map { min(max(($0 / scale).rounded(.toNearestOrEven) + zeroPoint, 0), 255) }
      y = Tensor(shape: x.shape, scalars: levels)
    case .scale: y = Tensor(scale)
    case .zeroPoint: y = Tensor(zeroPoint)
    }
    return Variable(y, parents: [x]) { _ in [Tensor.zeros(x.shape)] }
  }

  public var spec: LayerSpec {
    LayerSpec(op: "onnx.DynamicQuantizeLinear", attributes: ["output": .string(output.rawValue)])
  }

  /// The layer a spec describes, or nil when its op is another one (`ONNXLayers` asks).
  public convenience init?(spec s: LayerSpec) throws(ModelError) {
    guard s.op == "onnx.DynamicQuantizeLinear" else { return nil }
    guard let output = Output(rawValue: try s.string("output", default: "quantized")) else {
      throw .badAttribute(op: s.op, key: "output", expected: "quantized, scale or zero_point")
    }
    self.init(output)
  }
}

extension ONNXDynamicQuantization: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let shape = try ONNXShapes.single(inputs)
    return output == .quantized ? shape : []
  }
}
