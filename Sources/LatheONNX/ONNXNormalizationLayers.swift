import Foundation
import LatheTensor

/// LayerNormalization, RMSNormalization, InstanceNormalization and GroupNormalization: the
/// input normalised by its own statistics, then scaled and shifted by weights that are real
/// parameters (trainable and prunable, as BatchNorm's gamma and beta are). Built from autodiff
/// primitives, so the gradient is the engine's and needs no backward of its own.
public final class ONNXNormalization: Layer {
  public enum Kind: String, Sendable, CaseIterable {
    /// Over axes `axis..<rank`; scale and bias broadcast against those axes.
    case layer = "LayerNormalization"
    /// As `layer` without centring: x / sqrt(mean(x²) + ε), scale, no bias.
    case rms = "RMSNormalization"
    /// Over the spatial axes of each (sample, channel); scale and bias per channel.
    case instance = "InstanceNormalization"
    /// Over each group of `groups` channels (and the spatial axes); scale and bias per channel.
    case group = "GroupNormalization"
  }

  /// LayerNormalization's optional outputs are separate layers (as for training-mode
  /// BatchNormalization), so each node of a Lathe model has one output.
  public enum Output: String, Sendable {
    case normalized
    /// The mean over the normalised axes, kept as size-1 axes.
    case mean
    /// 1 / sqrt(variance + ε), same shape as `mean`.
    case invStdDev = "inv_std_dev"
  }

  public let kind: Kind
  public let output: Output
  /// The first normalised axis (non-negative) for `layer` and `rms`; 1 (channels) otherwise.
  public let axis: Int
  /// Channel groups for `group`; 0 otherwise.
  public let groups: Int
  public let epsilon: Float
  /// Nil only for the statistics outputs, which do not scale.
  public let scale: Parameter?
  public let bias: Parameter?

  public init(
    _ kind: Kind, output: Output = .normalized, axis: Int = 1, groups: Int = 0, epsilon: Float,
    scale: Tensor<Float>?, bias: Tensor<Float>?
  ) {
    self.kind = kind
    self.output = output
    self.axis = axis
    self.groups = groups
    self.epsilon = epsilon
    self.scale = scale.map { Parameter($0) }
    self.bias = bias.map { Parameter($0) }
  }

  public var spec: LayerSpec {
    LayerSpec(
      op: "onnx.\(kind.rawValue)",
      attributes: [
        "output": .string(output.rawValue), "axis": .int(axis), "num_groups": .int(groups),
        "epsilon": .float(epsilon), "scale_shape": .ints(scale?.shape ?? []), "scale": .bool(scale != nil),
        "bias_shape": .ints(bias?.shape ?? []), "bias": .bool(bias != nil),
      ])
  }

  public var parameters: [(name: String, parameter: Parameter)] {
    (scale.map { [("scale", $0)] } ?? []) + (bias.map { [("bias", $0)] } ?? [])
  }

  public func copy() -> Layer {
    ONNXNormalization(
      kind, output: output, axis: axis, groups: groups, epsilon: epsilon, scale: scale?.value, bias: bias?.value)
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    Self.normalize(
      inputs[0], kind: kind, output: output, axis: axis, groups: groups, epsilon: epsilon,
      scale: scale?.variable(), bias: bias?.variable())
  }

  /// The whole computation on plain variables, so tests can check the gradient with respect to
  /// the input and to each weight through one function.
  static func normalize(
    _ x: Variable, kind: Kind, output: Output, axis: Int, groups: Int, epsilon: Float, scale: Variable?,
    bias: Variable?
  ) -> Variable {
    let shape = x.shape
    let rank = shape.count
    // Per-channel weights [C] line up with axis 1 of [N, C, ...] as [C, 1, ...].
    func perChannel(_ v: Variable) -> Variable { v.reshaped([v.shape[0]] + Array(repeating: 1, count: rank - 2)) }
    var y: Variable
    switch kind {
    case .layer, .rms:
      let axes = Array(axis..<rank)
      if kind == .rms {
        y = x * ((x * x).mean(axes: axes, keepingDimensions: true) + epsilon).pow(-0.5)
      } else {
        let mean = x.mean(axes: axes, keepingDimensions: true)
        if output == .mean { return mean }
        let centered = x - mean
        let inverse = ((centered * centered).mean(axes: axes, keepingDimensions: true) + epsilon).pow(-0.5)
        if output == .invStdDev { return inverse }
        y = centered * inverse
      }
      // ONNX broadcasts these weights NumPy-style against the normalised trailing axes.
      if let scale { y = y * scale }
      if let bias { y = y + bias }
      return y
    case .instance:
      y = standardized(x, axes: Array(2..<rank), epsilon: epsilon)
    case .group:
      // Each group of C / groups consecutive channels, with the spatial axes, is one row.
      let grouped = x.reshaped([shape[0], groups, shape.dropFirst().reduce(1, *) / groups])
      y = standardized(grouped, axes: [2], epsilon: epsilon).reshaped(shape)
    }
    if let scale { y = y * perChannel(scale) }
    if let bias { y = y + perChannel(bias) }
    return y
  }

  /// (x − mean) / sqrt(population variance + ε) over `axes`.
  private static func standardized(_ x: Variable, axes: [Int], epsilon: Float) -> Variable {
    let centered = x - x.mean(axes: axes, keepingDimensions: true)
    return centered * ((centered * centered).mean(axes: axes, keepingDimensions: true) + epsilon).pow(-0.5)
  }

  /// Rebuilds a layer from its "onnx.<Kind>" spec with zero weights the file then fills; nil
  /// for other ops.
  static func make(_ spec: LayerSpec) throws(ModelError) -> Layer? {
    guard spec.op.hasPrefix("onnx."), let kind = Kind(rawValue: String(spec.op.dropFirst(5))) else { return nil }
    // Only LayerNormalization has the statistics outputs; the other kinds would ignore them.
    guard let output = Output(rawValue: try spec.string("output", default: "normalized")),
      output == .normalized || kind == .layer
    else {
      throw .badAttribute(
        op: spec.op, key: "output", expected: "normalized, or for LayerNormalization mean or inv_std_dev")
    }
    let (axis, groups) = (try spec.int("axis"), try spec.int("num_groups"))
    let (scaleShape, biasShape) = (try spec.ints("scale_shape", default: []), try spec.ints("bias_shape", default: []))
    // The shapes come from a file: check their sizes before allocating the zeros.
    guard axis >= 0, groups >= 0, ONNXShapes.product(scaleShape) != nil, ONNXShapes.product(biasShape) != nil else {
      throw .badAttribute(
        op: spec.op, key: "axis/num_groups/scale_shape", expected: "non-negative axis and groups, weights that fit")
    }
    let scale = try spec.bool("scale", default: true) ? Tensor<Float>.zeros(scaleShape) : nil
    let bias = try spec.bool("bias", default: false) ? Tensor<Float>.zeros(biasShape) : nil
    return ONNXNormalization(
      kind, output: output, axis: axis, groups: groups, epsilon: try spec.float("epsilon", default: 1e-5),
      scale: scale, bias: bias)
  }
}

extension ONNXNormalization: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let x = try ONNXShapes.single(inputs)
    let weights = [scale?.shape, bias?.shape].compactMap { $0 }
    switch kind {
    case .layer, .rms:
      guard axis < x.count else { throw ShapeError("axis \(axis) is outside input \(x)") }
      let normalized = Array(x[axis...])
      for w in weights where broadcastShape(w, normalized) != normalized {
        throw ShapeError("weight \(w) does not broadcast to the normalised axes \(normalized) of \(x)")
      }
      return output == .normalized ? x : Array(x[..<axis]) + Array(repeating: 1, count: x.count - axis)
    case .instance, .group:
      guard x.count >= (kind == .instance ? 3 : 2) else {
        throw ShapeError("needs input [batch, channels, spatial...], gets \(x)")
      }
      let channels = x[1]
      for w in weights where w != [channels] { throw ShapeError("weight \(w) should be [\(channels)] for \(x)") }
      if kind == .group, groups <= 0 || channels % groups != 0 {
        throw ShapeError("\(groups) groups do not divide the \(channels) channels of \(x)")
      }
      return x
    }
  }
}
