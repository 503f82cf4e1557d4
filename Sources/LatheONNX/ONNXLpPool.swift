import Foundation
import LatheTensor

/// ONNX LpPool over [N, C, spatial...] for any number of spatial axes: each window's
/// (Σ |x|^p)^(1/p), padding counting as 0. The gradient is sign(x)·|x|^(p−1)·y^(1−p), and 0 for
/// a window whose values are all 0 (the norm has no derivative there; 0 is its subgradient).
public final class ONNXLpPool: Layer {
  public let p: Int
  let window: WindowND

  init(p: Int, window: WindowND) {
    self.p = p
    self.window = window
  }

  public func copy() -> Layer { ONNXLpPool(p: p, window: window) }

  public var spec: LayerSpec {
    LayerSpec(
      op: "onnx.LpPool",
      attributes: [
        "p": .int(p), "kernel": .ints(window.kernel), "stride": .ints(window.stride), "pads": .ints(window.pads),
        "dilation": .ints(window.dilation), "ceil_mode": .bool(window.ceilMode),
      ])
  }

  /// The layer an "onnx.LpPool" spec describes, or nil for another op (`ONNXLayers` asks).
  public convenience init?(spec: LayerSpec) throws(ModelError) {
    guard spec.op == "onnx.LpPool" else { return nil }
    let p = try spec.int("p")
    guard p > 0 else { throw .badAttribute(op: spec.op, key: "p", expected: "a positive integer") }
    self.init(p: p, window: try ONNXLayers.window(spec))
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    let (n, c) = (x.shape[0], x.shape[1])
    let sizes = Array(x.shape.dropFirst(2))
    let outputs = window.outputSizes(sizes)
    let offsets = window.kernel.reduce(1, *)
    let (map, _) = window.patches(batch: n, channels: c, sizes: sizes)
    let count = map.count / max(offsets, 1)
    let v = x.value.contiguous().scalars
    let power = Float(p)
    var y = [Float](repeating: 0, count: count)
    for i in 0..<count {
      var total: Float = 0
      for k in 0..<offsets where map[i * offsets + k] >= 0 { total += powf(abs(v[map[i * offsets + k]]), power) }
      y[i] = powf(total, 1 / power)
    }
    let inputShape = x.shape
    return Variable(Tensor(shape: [n, c] + outputs, scalars: y), parents: [x]) { g in
      let gs = g.contiguous().scalars
      var dx = [Float](repeating: 0, count: v.count)
      for i in 0..<count where y[i] > 0 {
        let scale = gs[i] * powf(y[i], 1 - power)
        for k in 0..<offsets {
          let j = map[i * offsets + k]
          guard j >= 0, v[j] != 0 else { continue }
          dx[j] += scale * (v[j] > 0 ? 1 : -1) * powf(abs(v[j]), power - 1)
        }
      }
      return [Tensor(shape: inputShape, scalars: dx)]
    }
  }
}

extension ONNXLpPool: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    try window.outputShape(of: ONNXShapes.single(inputs), channels: nil, outputs: nil)
  }
}
