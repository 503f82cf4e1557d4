import Foundation
import LatheTensor

/// BatchNormalization with training_mode=1: the input normalised by its own batch statistics
/// (mean and population variance over every axis but the channels), or one of the updated
/// running statistics, `running · momentum + batch · (1 − momentum)`.
public final class ONNXBatchNormTraining: Layer {
  public enum Output: String, Sendable { case normalized, mean, variance }
  public let output: Output
  public let scale: Parameter
  public let bias: Parameter
  public let runningMean: Parameter
  public let runningVariance: Parameter
  public let epsilon: Float
  public let momentum: Float

  public init(
    _ output: Output, scale: Tensor<Float>, bias: Tensor<Float>, mean: Tensor<Float>, variance: Tensor<Float>,
    epsilon: Float, momentum: Float
  ) {
    self.output = output
    self.scale = Parameter(scale)
    self.bias = Parameter(bias)
    runningMean = Parameter(mean, isTrainable: false)
    runningVariance = Parameter(variance, isTrainable: false)
    self.epsilon = epsilon
    self.momentum = momentum
  }

  public var spec: LayerSpec {
    LayerSpec(
      op: "onnx.BatchNormTraining",
      attributes: [
        "output": .string(output.rawValue), "channels": .int(scale.value.count), "epsilon": .float(epsilon),
        "momentum": .float(momentum),
      ])
  }
  public var parameters: [(name: String, parameter: Parameter)] {
    [("scale", scale), ("bias", bias), ("mean", runningMean), ("var", runningVariance)]
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    let channels = x.shape[1]
    let axes = [0] + Array(2..<x.shape.count)
    var perChannel = [Int](repeating: 1, count: x.shape.count)
    perChannel[1] = channels
    let mean = x.mean(axes: axes, keepingDimensions: true)
    let centered = x - mean
    let variance = (centered * centered).mean(axes: axes, keepingDimensions: true)
    switch output {
    case .normalized:
      let scaled = centered / (variance + epsilon).sqrt() * scale.variable().reshaped(perChannel)
      return scaled + bias.variable().reshaped(perChannel)
    case .mean:
      return runningMean.variable() * momentum + mean.reshaped([channels]) * (1 - momentum)
    case .variance:
      return runningVariance.variable() * momentum + variance.reshaped([channels]) * (1 - momentum)
    }
  }

  public func copy() -> Layer {
    ONNXBatchNormTraining(
      output, scale: scale.value, bias: bias.value, mean: runningMean.value, variance: runningVariance.value,
      epsilon: epsilon, momentum: momentum)
  }
}
