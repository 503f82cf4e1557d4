import Foundation
import LatheTensor

/// One output of ONNX's TopK with a constant k: the k largest (or smallest) elements along an
/// axis, best first, ties to the lower index as ONNX specifies, or their positions (as floats,
/// exact below 2^24). Each output TopK's node uses is its own layer, as for `ONNXAttention`.
/// The values pass their gradient back to the elements they picked; the positions are flat in
/// the input, so theirs is zero.
public final class ONNXTopK: Layer {
  public enum Output: String, Sendable { case values, indices }

  public let k: Int
  /// Non-negative (the converter resolves negative axes).
  public let axis: Int
  public let largest: Bool
  public let output: Output

  public init(k: Int, axis: Int, largest: Bool, output: Output) {
    (self.k, self.axis, self.largest, self.output) = (k, axis, largest, output)
  }

  public func copy() -> Layer { ONNXTopK(k: k, axis: axis, largest: largest, output: output) }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    let v = x.value.contiguous().scalars
    let (outer, size, inner) = ONNXScanOp.split(x.shape, at: axis)
    var picked = [Int](repeating: 0, count: outer * k * inner)  // flat input positions
    var ranks = [Float](repeating: 0, count: picked.count)
    for o in 0..<outer {
      for i in 0..<inner {
        let at = { (j: Int) in (o * size + j) * inner + i }
        // NaN ranks as the largest value, as in numpy's sort (ONNX's reference).
        let better = { (a: Int, b: Int) -> Bool in
          let (p, q) = (v[at(a)], v[at(b)])
          if p == q || (p.isNaN && q.isNaN) { return a < b }
          if self.largest { return p.isNaN || (!q.isNaN && p > q) }
          return q.isNaN || (!p.isNaN && p < q)
        }
        let order = (0..<size).sorted(by: better)
        for r in 0..<k {
          picked[(o * k + r) * inner + i] = at(order[r])
          ranks[(o * k + r) * inner + i] = Float(order[r])
        }
      }
    }
    var shape = x.shape
    shape[axis] = k
    if output == .indices {
      return Variable(Tensor(shape: shape, scalars: ranks), parents: [x]) { _ in [Tensor.zeros(x.shape)] }
    }
    return Variable(Tensor(shape: shape, scalars: picked.map { v[$0] }), parents: [x]) { g in
      var gx = [Float](repeating: 0, count: v.count)
      for (p, gp) in zip(picked, g.contiguous().scalars) { gx[p] += gp }
      return [Tensor(shape: x.shape, scalars: gx)]
    }
  }

  public var spec: LayerSpec {
    LayerSpec(
      op: "onnx.TopK",
      attributes: [
        "k": .int(k), "axis": .int(axis), "largest": .bool(largest), "output": .string(output.rawValue),
      ])
  }

  /// The layer a spec describes, or nil when its op is another one (`ONNXLayers` asks).
  public convenience init?(spec s: LayerSpec) throws(ModelError) {
    guard s.op == "onnx.TopK" else { return nil }
    guard let output = Output(rawValue: try s.string("output", default: "values")) else {
      throw .badAttribute(op: s.op, key: "output", expected: "values or indices")
    }
    self.init(
      k: try s.int("k"), axis: try s.int("axis"), largest: try s.bool("largest", default: true), output: output)
  }
}

extension ONNXTopK: ShapeChecking {
  public func outputShape(for inputs: [[Int]]) throws(ShapeError) -> [Int] {
    var shape = try ONNXShapes.single(inputs)
    guard axis >= 0, axis < shape.count else { throw ShapeError("axis \(axis) is out of range for \(shape)") }
    guard k >= 0, k <= shape[axis] else { throw ShapeError("k \(k) should be 0 to \(shape[axis]) for \(shape)") }
    shape[axis] = k
    return shape
  }
}
