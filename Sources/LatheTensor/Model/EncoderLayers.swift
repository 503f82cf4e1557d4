// The sentence-embedding head of an encoder (`Transformer.encoder`): mean pooling over the
// real tokens, then unit length. Parameter-free, so no compression technique touches them.

/// The mean of [batch, sequence, width] token states over the positions a mask [batch,
/// sequence] marks 1 (sentence-transformers' mean pooling): inputs [states, mask], output
/// [batch, width].
public final class MeanPooling: Layer, ShapeChecking {
  public init() {}

  public var spec: LayerSpec { LayerSpec(op: "mean_pooling") }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    inputs[0].maskedMean(mask: inputs[1].value)
  }

  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try ShapeRules.inputs(inputs, count: 2)
    let (x, mask) = (inputs[0], inputs[1])
    guard x.count == 3 else { throw ShapeError("needs token states [batch, sequence, width], gets \(x)") }
    guard mask == [x[0], x[1]] else {
      throw ShapeError("a mask should be [batch, sequence] = \([x[0], x[1]]), gets \(mask)")
    }
    return [x[0], x[2]]
  }

  public func copy() -> Layer { MeanPooling() }
}

/// Each row of the last axis scaled to unit length (x / max(‖x‖, 1e-12)), so a dot product of
/// two outputs is their cosine.
public final class L2Normalization: Layer, ShapeChecking {
  public init() {}

  public var spec: LayerSpec { LayerSpec(op: "l2_normalize") }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    inputs[0].l2Normalized()
  }

  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    let x = try ShapeRules.same(inputs)
    guard !x.isEmpty else { throw ShapeError("needs at least one axis, gets a scalar") }
    return x
  }

  public func copy() -> Layer { L2Normalization() }
}
