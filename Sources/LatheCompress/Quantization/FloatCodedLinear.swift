import LatheTensor

/// A fully connected layer whose weight is stored in an FP8 or FP4 format (op
/// `float_coded_linear`, `FloatCodedWeights`). The file holds the codes and scales; compute is
/// emulated: the weight is decoded once, when the layer is built or loaded, into an fp32
/// `Linear` (the exact values FP8/FP4 hardware would multiply), since this CPU has no FP8/FP4
/// arithmetic. So the formats shrink files, not inference memory or time.
public final class FloatCodedLinear: LoadedThroughPlaceholder {
  public let weights: FloatCodedWeights
  public let bias: Tensor<Float>?
  /// The decoded fp32 layer that runs.
  private let decoded: Linear

  public init(weights: FloatCodedWeights, bias: Tensor<Float>?) {
    self.weights = weights
    self.bias = bias
    decoded = Linear(
      weight: Parameter(weights.dequantized(), isTrainable: false), bias: bias.map { Parameter($0, isTrainable: false) }
    )
  }

  public var spec: LayerSpec {
    LayerSpec(
      op: "float_coded_linear",
      attributes: [
        "in": .int(weights.columns), "out": .int(weights.rows), "bias": .bool(bias != nil),
        "format": .string(weights.format.rawValue),
      ])
  }

  public var kernelName: String { "\(weights.format.rawValue) decoded to fp32 at load, sgemm (emulated)" }
  public var effectiveWeight: Tensor<Float>? { decoded.weight.value }

  public var storedTensors: [(name: String, tensor: AnyTensor)] {
    weights.storedTensors + (bias.map { [("bias", .float32($0))] } ?? [])
  }

  public var statistics: LayerStatistics {
    .stored(
      weights: weights.rows * weights.columns, nonzeroWeights: decoded.weight.value.scalars.filter { $0 != 0 }.count,
      bias: bias, tensors: storedTensors, storage: "\(weights.format.rawValue) weight-only")
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    GradientRecording.disabled { decoded.forward(inputs, context: &context) }
  }

  public func copy() -> Layer { FloatCodedLinear(weights: weights, bias: bias) }
}

extension FloatCodedLinear: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try ShapeRules.linear(inputs, in: weights.columns, out: weights.rows)
  }
}
