import Foundation
import LatheTensor

/// One output of ONNX's Unique: the distinct elements of the input (or, with an axis, its
/// distinct slices along that axis), sorted ascending or in order of first appearance; where
/// each first appears; which of them each input element or slice is; and how often each
/// occurs. Sizes depend on the values, so the layer has no shape rules and the importer
/// probes it. The values pass their gradient back to the first occurrence each one came from;
/// the three index outputs take none.
public final class ONNXUnique: Layer {
  public enum Output: String, Sendable, CaseIterable {
    case values, indices
    case inverseIndices = "inverse_indices"
    case counts
  }

  /// Non-negative (the converter resolves negative axes); nil flattens the input.
  public let axis: Int?
  public let sorted: Bool
  public let output: Output

  public init(axis: Int?, sorted: Bool, output: Output) {
    (self.axis, self.sorted, self.output) = (axis, sorted, output)
  }

  public func copy() -> Layer { ONNXUnique(axis: axis, sorted: sorted, output: output) }

  /// The distinct slices' first positions (in the order the output lists them) and, for every
  /// slice, which distinct one it is.
  static func distinct(_ slices: [[Float]], sorted: Bool) -> (first: [Int], inverse: [Int]) {
    var first: [Int] = []
    var inverse = [Int](repeating: 0, count: slices.count)
    for (i, slice) in slices.enumerated() {
      if let k = first.firstIndex(where: { slices[$0] == slice }) {
        inverse[i] = k
      } else {
        inverse[i] = first.count
        first.append(i)
      }
    }
    guard sorted else { return (first, inverse) }
    let order = first.indices.sorted { slices[first[$0]].lexicographicallyPrecedes(slices[first[$1]]) }
    var rank = [Int](repeating: 0, count: order.count)
    for (r, k) in order.enumerated() { rank[k] = r }
    return (order.map { first[$0] }, inverse.map { rank[$0] })
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    let v = x.value.contiguous().scalars
    let shape = axis == nil ? [v.count] : x.shape
    let along = min(axis ?? 0, max(shape.count - 1, 0))
    let (outer, size, inner) = shape.isEmpty ? (1, 1, 1) : ONNXScanOp.split(shape, at: along)
    // Slice j's elements, as flat input positions, in row-major order.
    let positions = (0..<size).map { j in (0..<outer).flatMap { o in (0..<inner).map { (o * size + j) * inner + $0 } } }
    let (first, inverse) = Self.distinct(positions.map { $0.map { v[$0] } }, sorted: sorted)
    let noGradient: (Tensor<Float>) -> [Tensor<Float>?] = { _ in [Tensor.zeros(x.shape)] }
    switch output {
    case .indices:
      return Variable(Tensor(shape: [first.count], scalars: first.map(Float.init)), parents: [x], backward: noGradient)
    case .inverseIndices:
      return Variable(
        Tensor(shape: [inverse.count], scalars: inverse.map(Float.init)), parents: [x], backward: noGradient)
    case .counts:
      var counts = [Float](repeating: 0, count: first.count)
      for k in inverse { counts[k] += 1 }
      return Variable(Tensor(shape: [counts.count], scalars: counts), parents: [x], backward: noGradient)
    case .values:
      var outShape = shape
      if !outShape.isEmpty { outShape[along] = first.count }
      // Output position (o, r, i) reads input (o, first[r], i).
      var picked: [Int] = []
      for o in 0..<outer {
        for r in first { picked += (0..<inner).map { (o * size + r) * inner + $0 } }
      }
      return Variable(Tensor(shape: outShape, scalars: picked.map { v[$0] }), parents: [x]) { g in
        var gx = [Float](repeating: 0, count: v.count)
        for (p, gp) in zip(picked, g.contiguous().scalars) { gx[p] += gp }
        return [Tensor(shape: x.shape, scalars: gx)]
      }
    }
  }

  public var spec: LayerSpec {
    var attributes: [String: AttributeValue] = ["sorted": .bool(sorted), "output": .string(output.rawValue)]
    if let axis { attributes["axis"] = .int(axis) }
    return LayerSpec(op: "onnx.Unique", attributes: attributes)
  }

  /// The layer a spec describes, or nil when its op is another one (`ONNXLayers` asks).
  public convenience init?(spec s: LayerSpec) throws(ModelError) {
    guard s.op == "onnx.Unique" else { return nil }
    guard let output = Output(rawValue: try s.string("output", default: "values")) else {
      throw .badAttribute(op: s.op, key: "output", expected: "values, indices, inverse_indices or counts")
    }
    let axis = s.attributes["axis"] == nil ? nil : try s.int("axis")
    guard axis.map({ $0 >= 0 }) ?? true else { throw .badAttribute(op: s.op, key: "axis", expected: "0 or more") }
    self.init(axis: axis, sorted: try s.bool("sorted", default: true), output: output)
  }
}
