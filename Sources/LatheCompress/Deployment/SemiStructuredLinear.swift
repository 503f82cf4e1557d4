import CKernels
import LatheTensor

/// An inference-only fully connected layer with a 2:4 semi-structured weight (op
/// `sparse24_linear`): half the weights and 1 bit of positions per weight stored, and
/// y = x·Wᵀ + b computed by lk_sp24_gemm, which reads only the kept half. `Deployment` builds it
/// from a Linear whose mask keeps exactly 2 of every 4 inputs in every row. At batch 1 it beats
/// the dense packed product (docs/speed.md, "2:4 semi-structured"); it runs every batch size,
/// the gain shrinking as rows grow (each row pays its own permutes).
public final class SemiStructuredLinear: LoadedThroughPlaceholder {
  public let weights: SemiStructuredWeights
  public let bias: Tensor<Float>?

  public init(weights: SemiStructuredWeights, bias: Tensor<Float>?) {
    self.weights = weights
    self.bias = bias
  }

  public var spec: LayerSpec {
    LayerSpec(
      op: "sparse24_linear",
      attributes: ["in": .int(weights.columns), "out": .int(weights.rows), "bias": .bool(bias != nil)])
  }

  public var kernelName: String { "sp24 2:4 " + String(cString: lk_isa_name(lk_isa_current())) }
  public var effectiveWeight: Tensor<Float>? { weights.dense() }

  public var storedTensors: [(name: String, tensor: AnyTensor)] {
    weights.storedTensors(prefix: "weight.") + (bias.map { [("bias", .float32($0))] } ?? [])
  }

  public var statistics: LayerStatistics {
    .stored(
      weights: weights.rows * weights.columns, nonzeroWeights: weights.values.filter { $0 != 0 }.count, bias: bias,
      tensors: storedTensors, storage: "2:4 f32 + positions")
  }

  /// Over the last axis like `Linear`: a [batch, sequence, in] input is batch · sequence rows.
  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    inputs[0].overLastAxis { Variable(weights.product($0.value.contiguous(), bias: bias)) }
  }

  public func copy() -> Layer { SemiStructuredLinear(weights: weights, bias: bias) }
}

extension SemiStructuredLinear: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try ShapeRules.linear(inputs, in: weights.columns, out: weights.rows)
  }
}
