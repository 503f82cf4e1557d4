import Foundation
import LatheTensor

/// ONNX's CumProd and Hardmax. CumProd passes the gradient through the running product;
/// Hardmax's one-hot output is flat almost everywhere, so its gradient is zero (present, not
/// missing, as for ArgMax in `ONNXLogicOp`).
public final class ONNXScanOp: Layer {
  public enum Kind: Equatable, Sendable {
    /// The axis is non-negative (the converter resolves negative ones).
    case cumProd(axis: Int, exclusive: Bool, reverse: Bool)
    /// 1 at the first maximum along `axis`, 0 elsewhere. `coerced` is the form before opset
    /// 13: the input is seen as a matrix [before axis, from axis on], so the maximum is taken
    /// over every axis from `axis` to the last together.
    case hardmax(axis: Int, coerced: Bool)
  }

  public let kind: Kind

  public init(_ kind: Kind) { self.kind = kind }

  public func copy() -> Layer { ONNXScanOp(kind) }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    switch kind {
    case .cumProd(let axis, let exclusive, let reverse):
      let y = Self.cumulativeProduct(x.value, axis: axis, exclusive: exclusive, reverse: reverse)
      return Variable(y, parents: [x]) { g in
        [Self.cumulativeProductGradient(x.value, g, axis: axis, exclusive: exclusive, reverse: reverse)]
      }
    case .hardmax(let axis, let coerced):
      let y = Self.hardmax(x.value, axis: axis, coerced: coerced)
      return Variable(y, parents: [x]) { _ in [Tensor.zeros(x.shape)] }
    }
  }

  /// `shape` split around `axis`: the count of slices before it, its size, the count after.
  static func split(_ shape: [Int], at axis: Int) -> (outer: Int, size: Int, inner: Int) {
    (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
  }

  /// Calls `body` with the flat indices of every line along `axis`, in scan order (from the end
  /// with `reverse`).
  static func lines(_ shape: [Int], axis: Int, reverse: Bool, _ body: ([Int]) -> Void) {
    let (outer, size, inner) = split(shape, at: axis)
    for o in 0..<outer {
      for i in 0..<inner {
        body((0..<size).map { step in (o * size + (reverse ? size - 1 - step : step)) * inner + i })
      }
    }
  }

  /// The running product along `axis`; `exclusive` leaves out the element itself (the first
  /// product is 1).
  static func cumulativeProduct(_ x: Tensor<Float>, axis: Int, exclusive: Bool, reverse: Bool) -> Tensor<Float> {
    let v = x.contiguous().scalars
    var out = [Float](repeating: 0, count: v.count)
    lines(x.shape, axis: axis, reverse: reverse) { line in
      var total: Float = 1
      for at in line {
        if exclusive { out[at] = total }
        total *= v[at]
        if !exclusive { out[at] = total }
      }
    }
    return Tensor(shape: x.shape, scalars: out)
  }

  /// The adjoint of the running product, built from products that leave x_j out rather than
  /// from y / x_j, which is 0/0 wherever an element is 0. Quadratic in the axis length; the
  /// lines CumProd sees in models (positions, a few hundred at most) keep that small.
  static func cumulativeProductGradient(
    _ x: Tensor<Float>, _ g: Tensor<Float>, axis: Int, exclusive: Bool, reverse: Bool
  ) -> Tensor<Float> {
    let v = x.contiguous().scalars
    let gs = g.contiguous().scalars
    var out = [Float](repeating: 0, count: v.count)
    lines(x.shape, axis: axis, reverse: reverse) { line in
      var before: Float = 1  // the product of the elements scanned before j
      for (j, at) in line.enumerated() {
        // `rest` is the product of output k's factors other than x_j, for each k that has x_j.
        var rest = before
        var total: Float = exclusive ? 0 : gs[at] * rest
        for k in (j + 1)..<max(line.count, j + 1) {
          if exclusive { total += gs[line[k]] * rest }
          rest *= v[line[k]]
          if !exclusive { total += gs[line[k]] * rest }
        }
        out[at] = total
        before *= v[at]
      }
    }
    return Tensor(shape: x.shape, scalars: out)
  }

  /// One-hot of the first maximum along `axis` (or, coerced, over all axes from it on). NaN is
  /// never picked over a number, as in ArgMax.
  static func hardmax(_ x: Tensor<Float>, axis: Int, coerced: Bool) -> Tensor<Float> {
    let v = x.contiguous().scalars
    var out = [Float](repeating: 0, count: v.count)
    // Coerced, the line is everything from `axis` on: one axis of that flattened size.
    let shape = coerced ? Array(x.shape[..<axis]) + [x.shape[axis...].reduce(1, *)] : x.shape
    guard !v.isEmpty else { return Tensor(shape: x.shape, scalars: out) }
    lines(shape, axis: axis, reverse: false) { line in
      guard var best = line.first else { return }
      for at in line.dropFirst() where v[at] > v[best] || v[best].isNaN { best = at }
      out[best] = 1
    }
    return Tensor(shape: x.shape, scalars: out)
  }
}
