import Foundation
import LatheTensor

/// ONNX's comparison, logic, selection and index operators: Equal/Less/Greater and their
/// OrEqual forms, Not/And/Or/Xor, Where, IsNaN/IsInf, ArgMax/ArgMin, CumSum, Trilu and Size.
/// The engine computes in fp32, so booleans are 0 and 1 and indices are exact floats (below
/// 2^24). Outputs that are booleans or indices pass back a zero gradient (they are flat almost
/// everywhere); Where, CumSum and Trilu pass the gradient to the values they move.
public final class ONNXLogicOp: Layer {
  public enum Kind: Equatable, Sendable {
    case compare(Comparison)
    case not
    case logic(Logic)
    /// Condition, X, Y, all three broadcast.
    case select
    case isNaN
    case isInf(positive: Bool, negative: Bool)
    /// The axis is non-negative (the converter resolves negative ones).
    case arg(Extreme, axis: Int, keepDims: Bool, selectLast: Bool)
    case cumSum(axis: Int, exclusive: Bool, reverse: Bool)
    /// Keeps the upper (j − i ≥ k) or lower (j − i ≤ k) triangle of the last two axes.
    case trilu(upper: Bool, k: Int)
    /// The element count, as a scalar (for values whose shape depends on the batch).
    case size
  }

  /// Raw values are the ONNX operator names.
  public enum Comparison: String, Sendable, CaseIterable {
    case equal = "Equal"
    case less = "Less"
    case lessOrEqual = "LessOrEqual"
    case greater = "Greater"
    case greaterOrEqual = "GreaterOrEqual"

    func holds(_ a: Float, _ b: Float) -> Bool {
      switch self {
      case .equal: a == b
      case .less: a < b
      case .lessOrEqual: a <= b
      case .greater: a > b
      case .greaterOrEqual: a >= b
      }
    }
  }

  public enum Logic: String, Sendable, CaseIterable {
    case and = "And"
    case or = "Or"
    case xor = "Xor"

    func holds(_ a: Bool, _ b: Bool) -> Bool {
      switch self {
      case .and: a && b
      case .or: a || b
      case .xor: a != b
      }
    }
  }

  public enum Extreme: String, Sendable, CaseIterable {
    case max = "ArgMax"
    case min = "ArgMin"
  }

  public let kind: Kind

  public init(_ kind: Kind) { self.kind = kind }

  public func copy() -> Layer { ONNXLogicOp(kind) }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    switch kind {
    case .compare(let op): return Self.flat(inputs, x.value.zipWith(inputs[1].value) { op.holds($0, $1) ? 1 : 0 })
    case .not: return Self.flat(inputs, x.value.mapFloat { $0 == 0 ? 1 : 0 })
    case .logic(let op):
      return Self.flat(inputs, x.value.zipWith(inputs[1].value) { op.holds($0 != 0, $1 != 0) ? 1 : 0 })
    case .select: return Self.select(inputs[0], inputs[1], inputs[2])
    case .isNaN: return Self.flat(inputs, x.value.mapFloat { $0.isNaN ? 1 : 0 })
    case .isInf(let positive, let negative):
      return Self.flat(
        inputs, x.value.mapFloat { $0.isInfinite && ($0 > 0 ? positive : negative) ? 1 : 0 })
    case .arg(let op, let axis, let keep, let last):
      return Self.flat(inputs, Self.argExtreme(x.value, op, axis: axis, keepDims: keep, selectLast: last))
    case .cumSum(let axis, let exclusive, let reverse):
      let y = Self.cumulativeSum(x.value, axis: axis, exclusive: exclusive, reverse: reverse)
      // The adjoint of a running sum is the running sum the other way, equally exclusive.
      return Variable(y, parents: [x]) { g in
        [Self.cumulativeSum(g, axis: axis, exclusive: exclusive, reverse: !reverse)]
      }
    case .trilu(let upper, let k):
      let keep = { (i: Int, j: Int) in upper ? j - i >= k : j - i <= k }
      return Variable(Self.triangle(x.value, keep), parents: [x]) { g in [Self.triangle(g, keep)] }
    case .size: return Self.flat(inputs, Tensor(Float(x.value.count)))
    }
  }

  /// A result flat in every input: each gets a zero gradient (not none, so a caller that asks
  /// for the gradient of a comparison gets the zeros it has rather than a missing value).
  static func flat(_ inputs: [Variable], _ y: Tensor<Float>) -> Variable {
    Variable(y, parents: inputs) { _ in inputs.map { Tensor.zeros($0.shape) } }
  }

  /// Where: X where the condition is non-zero, else Y. The gradient goes to the one picked; an
  /// infinite or NaN value not picked does not reach the output (no multiplication by 0).
  static func select(_ condition: Variable, _ a: Variable, _ b: Variable) -> Variable {
    let shape = broadcastShape(broadcastShape(condition.shape, a.shape) ?? [], b.shape) ?? []
    let mask = condition.value.expanded(to: shape).contiguous().scalars.map { $0 != 0 }
    let (left, right) = (
      a.value.expanded(to: shape).contiguous().scalars, b.value.expanded(to: shape).contiguous().scalars
    )
    let y = Tensor<Float>(shape: shape, scalars: mask.indices.map { mask[$0] ? left[$0] : right[$0] })
    return Variable(y, parents: [condition, a, b]) { g in
      let gs = g.contiguous().scalars
      let toA = Tensor<Float>(shape: shape, scalars: mask.indices.map { mask[$0] ? gs[$0] : 0 })
      let toB = Tensor<Float>(shape: shape, scalars: mask.indices.map { mask[$0] ? 0 : gs[$0] })
      return [Tensor.zeros(condition.shape), toA.sumToShape(a.shape), toB.sumToShape(b.shape)]
    }
  }

  /// `shape` split around `axis`: the count of slices before it, its size, the count after.
  static func split(_ shape: [Int], at axis: Int) -> (outer: Int, size: Int, inner: Int) {
    (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
  }

  /// ArgMax/ArgMin: the first index of the extreme along `axis`, or the last with `selectLast`.
  /// NaN is never picked over a number (numpy picks it; ONNX leaves it open).
  static func argExtreme(
    _ x: Tensor<Float>, _ op: Extreme, axis: Int, keepDims: Bool, selectLast: Bool
  ) -> Tensor<Float> {
    let (outer, size, inner) = split(x.shape, at: axis)
    let v = x.contiguous().scalars
    var out = [Float](repeating: 0, count: outer * inner)
    for o in 0..<outer {
      for i in 0..<inner {
        var best = 0
        for k in 1..<max(size, 1) {
          let (candidate, current) = (v[(o * size + k) * inner + i], v[(o * size + best) * inner + i])
          let better = op == .max ? candidate > current : candidate < current
          if better || (selectLast && candidate == current) || current.isNaN { best = k }
        }
        out[o * inner + i] = Float(best)
      }
    }
    var shape = x.shape
    if keepDims { shape[axis] = 1 } else { shape.remove(at: axis) }
    return Tensor(shape: shape, scalars: out)
  }

  /// The running sum along `axis`, from the end with `reverse`; `exclusive` leaves out the
  /// element itself (the first sum is 0).
  static func cumulativeSum(_ x: Tensor<Float>, axis: Int, exclusive: Bool, reverse: Bool) -> Tensor<Float> {
    let (outer, size, inner) = split(x.shape, at: axis)
    let v = x.contiguous().scalars
    var out = [Float](repeating: 0, count: v.count)
    for o in 0..<outer {
      for i in 0..<inner {
        var total: Float = 0
        for step in 0..<size {
          let k = reverse ? size - 1 - step : step
          let at = (o * size + k) * inner + i
          if exclusive {
            out[at] = total
            total += v[at]
          } else {
            total += v[at]
            out[at] = total
          }
        }
      }
    }
    return Tensor(shape: x.shape, scalars: out)
  }

  /// `x` with the elements of its last two axes outside `keep(row, column)` set to 0.
  static func triangle(_ x: Tensor<Float>, _ keep: (Int, Int) -> Bool) -> Tensor<Float> {
    let (rows, columns) = (x.shape[x.shape.count - 2], x.shape[x.shape.count - 1])
    var v = x.contiguous().scalars
    for at in v.indices {
      let (row, column) = ((at / columns) % rows, at % columns)
      if !keep(row, column) { v[at] = 0 }
    }
    return Tensor(shape: x.shape, scalars: v)
  }
}
