import Foundation
import LatheTensor

/// ONNX's GatherElements, GatherND, ScatterElements and ScatterND with constant indices. Each
/// index names one data element (or, for the ND forms, one slice), so the layer resolves the
/// indices to flat data positions once per shape and then only moves values: a gather's gradient
/// goes back to the elements it picked, a scatter's to the data it did not overwrite and to the
/// updates that landed.
public final class ONNXIndexOp: Layer {
  /// How a scatter combines an update with what is there (ONNX's `reduction`).
  public enum Reduction: String, Equatable, Sendable, CaseIterable {
    case none, add, mul, max, min
  }

  public enum Kind: Equatable, Sendable {
    /// Axes are non-negative (the converter resolves negative ones).
    case gatherElements(axis: Int)
    case scatterElements(axis: Int, reduction: Reduction)
    case gatherND(batchDims: Int)
    case scatterND(reduction: Reduction)

    var isScatter: Bool {
      switch self {
      case .scatterElements, .scatterND: return true
      case .gatherElements, .gatherND: return false
      }
    }

    var reduction: Reduction {
      switch self {
      case .scatterElements(_, let r), .scatterND(let r): return r
      case .gatherElements, .gatherND: return .none
      }
    }
  }

  public let kind: Kind
  /// The index tensor's values (negative ones count from the end) and shape.
  public let indices: [Int]
  public let indicesShape: [Int]

  public init(_ kind: Kind, indices: [Int], indicesShape: [Int]) {
    (self.kind, self.indices, self.indicesShape) = (kind, indices, indicesShape)
  }

  public func copy() -> Layer { ONNXIndexOp(kind, indices: indices, indicesShape: indicesShape) }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    let x = inputs[0]
    // The shape rule checked the indices against the shape at probe sizes; a graph with
    // symbolic sizes may be fed data they do not fit.
    let shape: [Int]
    let at: [Int]
    do {
      (shape, at) = try positions(x.shape)
    } catch {
      RunFailure.record(String(spec.op.dropFirst(5)), "the indices do not fit the data \(x.shape): \(error.reason)")
      return Variable(.zeros(x.shape))
    }
    let v = x.value.contiguous().scalars
    if !kind.isScatter {
      let y = Tensor(shape: shape, scalars: at.map { v[$0] })
      return Variable(y, parents: [x]) { g in
        var gx = [Float](repeating: 0, count: v.count)
        for (k, gk) in zip(at, g.contiguous().scalars) { gx[k] += gk }
        return [Tensor(shape: x.shape, scalars: gx)]
      }
    }
    let u = inputs[1]
    let us = u.value.contiguous().scalars
    let (y, winner) = Self.scatter(v, us, at, kind.reduction)
    return Variable(Tensor(shape: x.shape, scalars: y), parents: [x, u]) { [kind] g in
      let gs = g.contiguous().scalars
      let (gx, gu) = Self.scatterGradient(v, us, at, winner, gs, kind.reduction)
      return [Tensor(shape: x.shape, scalars: gx), Tensor(shape: u.shape, scalars: gu)]
    }
  }

  /// The output shape and, for each output element of a gather (each update of a scatter), the
  /// flat data position it reads (writes).
  func positions(_ data: [Int]) throws(ShapeError) -> (shape: [Int], at: [Int]) {
    guard indices.count == indicesShape.reduce(1, *) else {
      throw ShapeError("\(indices.count) indices do not fill the shape \(indicesShape)")
    }
    switch kind {
    case .gatherElements(let axis), .scatterElements(let axis, _):
      guard indicesShape.count == data.count, axis >= 0, axis < data.count else {
        throw ShapeError("indices \(indicesShape) and data \(data) need the same rank and an axis \(axis) in it")
      }
      for (d, (i, n)) in zip(indicesShape, data).enumerated() where d != axis && i > n {
        throw ShapeError("indices \(indicesShape) are larger than the data \(data) on axis \(d)")
      }
      let strides = Self.strides(data)
      let istrides = Self.strides(indicesShape)
      var at = [Int](repeating: 0, count: indices.count)
      for k in indices.indices {
        var flat = 0
        for d in data.indices {
          var c = (k / istrides[d]) % indicesShape[d]
          if d == axis { c = try Self.resolve(indices[k], size: data[d]) }
          flat += c * strides[d]
        }
        at[k] = flat
      }
      return (indicesShape, at)
    case .gatherND, .scatterND:
      var b = 0  // batch axes; ScatterND has none
      if case .gatherND(let dims) = kind { b = dims }
      guard let m = indicesShape.last, b >= 0, m >= 0, indicesShape.count > b, b <= data.count, b + m <= data.count,
        Array(indicesShape[..<b]) == Array(data[..<b])
      else {
        throw ShapeError("indices \(indicesShape) do not index data \(data) with \(b) batch axes")
      }
      let outer = Array(indicesShape[..<(indicesShape.count - 1)])
      let slice = data[(b + m)...].reduce(1, *)
      let tuples = outer[b...].reduce(1, *)
      let block = data[b..<(b + m)].reduce(1, *)
      let strides = Self.strides(Array(data[b..<(b + m)]))
      var at: [Int] = []
      at.reserveCapacity(outer.reduce(1, *) * slice)
      for t in 0..<(outer.reduce(1, *)) {
        var flat = t / max(tuples, 1) * block
        for j in 0..<m { flat += try Self.resolve(indices[t * m + j], size: data[b + j]) * strides[j] }
        at.append(contentsOf: (0..<slice).map { flat * slice + $0 })
      }
      return (outer + Array(data[(b + m)...]), at)
    }
  }

  static func strides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    for d in shape.indices.reversed().dropFirst() { s[d] = s[d + 1] * shape[d + 1] }
    return s
  }

  static func resolve(_ i: Int, size: Int) throws(ShapeError) -> Int {
    guard i >= -size, i < size else { throw ShapeError("index \(i) is out of range for an axis of \(size)") }
    return i < 0 ? i + size : i
  }

  /// The scattered values and, per data position, which update decided it (−1: the data did).
  /// Updates apply in order: with `none` the last one to a position wins; max and min keep the
  /// first of equal values.
  static func scatter<T: Numeric & Comparable>(
    _ data: [T], _ updates: [T], _ at: [Int], _ reduction: Reduction
  ) -> ([T], [Int]) {
    var y = data
    var winner = [Int](repeating: -1, count: data.count)
    for (j, t) in at.enumerated() {
      let u = updates[j]
      switch reduction {
      case .none: (y[t], winner[t]) = (u, j)
      case .add: y[t] += u
      case .mul: y[t] *= u
      case .max: if u > y[t] { (y[t], winner[t]) = (u, j) }
      case .min: if u < y[t] { (y[t], winner[t]) = (u, j) }
      }
    }
    return (y, winner)
  }

  static func scatterGradient(
    _ data: [Float], _ updates: [Float], _ at: [Int], _ winner: [Int], _ g: [Float], _ reduction: Reduction
  ) -> ([Float], [Float]) {
    var gx = g
    var gu = [Float](repeating: 0, count: updates.count)
    switch reduction {
    case .add: for (j, t) in at.enumerated() { gu[j] = g[t] }
    case .none, .max, .min:
      // Only what decided a position gets its gradient.
      for (t, w) in winner.enumerated() where w >= 0 { gx[t] = 0 }
      for (j, t) in at.enumerated() where winner[t] == j { gu[j] = g[t] }
    case .mul:
      // Products leaving one factor out, not y / factor, which is 0/0 at a zero.
      var writers: [Int: [Int]] = [:]
      for (j, t) in at.enumerated() { writers[t, default: []].append(j) }
      for (t, js) in writers {
        gx[t] = g[t] * js.reduce(Float(1)) { $0 * updates[$1] }
        for j in js {
          gu[j] = g[t] * data[t] * js.reduce(Float(1)) { $1 == j ? $0 : $0 * updates[$1] }
        }
      }
    }
    return (gx, gu)
  }
}
