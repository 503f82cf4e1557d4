import Foundation
import LatheTensor

/// ONNX's OneHot with a constant depth and values: `on` where a position along the new axis
/// equals the index (a negative index counts from depth), `off` elsewhere, and `off` along the
/// whole axis for an index out of range. The indices arrive as floats holding integers (exact
/// below 2^24, far past any depth); the output is flat in them, so their gradient is zero.
public final class ONNXOneHot: Layer {
  public let depth: Int
  /// Where the new axis goes in the output (non-negative; the converter resolves negative ones).
  public let axis: Int
  public let off: Float
  public let on: Float

  public init(depth: Int, axis: Int, off: Float, on: Float) {
    (self.depth, self.axis, self.off, self.on) = (depth, axis, off, on)
  }

  public func copy() -> Layer { ONNXOneHot(depth: depth, axis: axis, off: off, on: on) }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    let v = x.value.contiguous().scalars
    let outer = x.shape[..<axis].reduce(1, *)
    let inner = x.shape[axis...].reduce(1, *)
    var out = [Float](repeating: off, count: v.count * depth)
    for o in 0..<outer {
      for i in 0..<inner {
        let value = v[o * inner + i]
        guard value.isFinite else { continue }
        var k = Int(value.rounded(.towardZero))
        if k < 0 { k += depth }
        guard k >= 0, k < depth else { continue }
        out[(o * depth + k) * inner + i] = on
      }
    }
    var shape = x.shape
    shape.insert(depth, at: axis)
    return Variable(Tensor(shape: shape, scalars: out), parents: [x]) { _ in [Tensor.zeros(x.shape)] }
  }

  public var spec: LayerSpec {
    LayerSpec(
      op: "onnx.OneHot", attributes: ["depth": .int(depth), "axis": .int(axis), "off": .float(off), "on": .float(on)])
  }

  /// The layer a spec describes, or nil when its op is another one (`ONNXLayers` asks).
  public convenience init?(spec s: LayerSpec) throws(ModelError) {
    guard s.op == "onnx.OneHot" else { return nil }
    self.init(
      depth: try s.int("depth"), axis: try s.int("axis"), off: try s.float("off", default: 0),
      on: try s.float("on", default: 1))
  }
}

extension ONNXOneHot: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    var shape = try ONNXShapes.single(inputs)
    guard axis >= 0, axis <= shape.count else { throw ShapeError("axis \(axis) is out of range for \(shape)") }
    guard depth > 0, ONNXShapes.product(shape + [depth]) != nil else {
      throw ShapeError("depth \(depth) should be positive and keep the output within the element limit")
    }
    shape.insert(depth, at: axis)
    return shape
  }
}
