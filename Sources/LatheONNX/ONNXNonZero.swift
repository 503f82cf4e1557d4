import Foundation
import LatheTensor

/// ONNX's NonZero: the coordinates of the input's non-zero elements, [rank, count], in
/// row-major order, as exact floats. The count depends on the values, so the layer has no shape
/// rules and the importer probes it. Coordinates take no gradient.
public final class ONNXNonZero: Layer {
  public init() {}

  public func copy() -> Layer { ONNXNonZero() }

  /// Coordinate lists, one per axis, of the non-zero elements of `values` laid out as `shape`.
  static func coordinates(_ values: [Float], shape: [Int]) -> [[Int]] {
    let strides = Tensor<Float>.rowMajorStrides(shape)
    var rows = [[Int]](repeating: [], count: shape.count)
    // NaN is not zero, as in numpy.
    for (flat, v) in values.enumerated() where v != 0 {
      for d in shape.indices { rows[d].append(flat / strides[d] % shape[d]) }
    }
    return rows
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    let values = x.value.contiguous().scalars
    // A scalar counts as one coordinate-free element: [0, 1] or [0, 0] per numpy's rank-1 view.
    let rows = x.shape.isEmpty ? [] : Self.coordinates(values, shape: x.shape)
    let count = x.shape.isEmpty ? (values.first.map { $0 != 0 ? 1 : 0 } ?? 0) : (rows.first?.count ?? 0)
    let y = Tensor(shape: [rows.count, count], scalars: rows.flatMap { $0.map(Float.init) })
    return Variable(y, parents: [x]) { _ in [Tensor.zeros(x.shape)] }
  }

  public var spec: LayerSpec { LayerSpec(op: "onnx.NonZero") }
}
