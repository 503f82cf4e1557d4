// Element-wise arithmetic with NumPy broadcasting. Dense same-shape operands take a flat loop
// the compiler vectorises; anything else walks the output with per-operand strides.

extension Tensor where Scalar == Float {
  /// `op` applied to each element.
  @inlinable
  public func mapFloat(_ op: (Float) -> Float) -> Tensor {
    let result = Tensor(uninitializedShape: shape)
    let dst = result.storage.pointer
    withUnsafeBufferPointer { src in
      for i in 0..<src.count { dst[i] = op(src[i]) }
    }
    return result
  }

  /// `op` applied pairwise after broadcasting `self` and `other` to a common shape.
  @inlinable
  public func zipWith(_ other: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
    if shape == other.shape {
      let result = Tensor(uninitializedShape: shape)
      let dst = result.storage.pointer
      withUnsafeBufferPointer { a in
        other.withUnsafeBufferPointer { b in
          for i in 0..<a.count { dst[i] = op(a[i], b[i]) }
        }
      }
      return result
    }
    guard let outShape = broadcastShape(shape, other.shape) else {
      preconditionFailure("shapes \(shape) and \(other.shape) do not broadcast")
    }
    let a = expanded(to: outShape)
    let b = other.expanded(to: outShape)
    let result = Tensor(uninitializedShape: outShape)
    let dst = result.storage.pointer
    let pa = a.storage.pointer
    let pb = b.storage.pointer
    if outShape.isEmpty {
      dst[0] = op(pa[a.offset], pb[b.offset])
      return result
    }
    // Walk all but the last axis with an index; run the last axis as an inner strided loop.
    let last = outShape.count - 1
    let inner = outShape[last]
    let sa = a.strides[last]
    let sb = b.strides[last]
    let outer = outShape[..<last].reduce(1, *)
    var index = [Int](repeating: 0, count: last)
    var oa = a.offset
    var ob = b.offset
    var o = 0
    for _ in 0..<outer {
      for j in 0..<inner { dst[o + j] = op(pa[oa + j * sa], pb[ob + j * sb]) }
      o += inner
      var axis = last - 1
      while axis >= 0 {
        index[axis] += 1
        oa += a.strides[axis]
        ob += b.strides[axis]
        if index[axis] < outShape[axis] { break }
        oa -= a.strides[axis] * outShape[axis]
        ob -= b.strides[axis] * outShape[axis]
        index[axis] = 0
        axis -= 1
      }
    }
    return result
  }

  public static func + (a: Tensor, b: Tensor) -> Tensor { a.zipWith(b, +) }
  public static func - (a: Tensor, b: Tensor) -> Tensor { a.zipWith(b, -) }
  public static func * (a: Tensor, b: Tensor) -> Tensor { a.zipWith(b, *) }
  public static func / (a: Tensor, b: Tensor) -> Tensor { a.zipWith(b, /) }
  public static func + (a: Tensor, s: Float) -> Tensor { a.mapFloat { $0 + s } }
  public static func - (a: Tensor, s: Float) -> Tensor { a.mapFloat { $0 - s } }
  public static func * (a: Tensor, s: Float) -> Tensor { a.mapFloat { $0 * s } }
  public static func / (a: Tensor, s: Float) -> Tensor { a.mapFloat { $0 / s } }
  public static func * (s: Float, a: Tensor) -> Tensor { a.mapFloat { $0 * s } }
  public static prefix func - (a: Tensor) -> Tensor { a.mapFloat { -$0 } }

  /// In-place `self += other * scale` for same-shape tensors (optimizers, gradient sums).
  public mutating func addScaled(_ other: Tensor, _ scale: Float = 1) {
    precondition(shape == other.shape, "addScaled: \(shape) vs \(other.shape)")
    other.withUnsafeBufferPointer { src in
      withUnsafeMutableBufferPointer { dst in
        for i in 0..<dst.count { dst[i] += scale * src[i] }
      }
    }
  }

  /// In-place element-wise product (applying a mask).
  public mutating func multiply(by other: Tensor) {
    precondition(shape == other.shape, "multiply: \(shape) vs \(other.shape)")
    other.withUnsafeBufferPointer { src in
      withUnsafeMutableBufferPointer { dst in
        for i in 0..<dst.count { dst[i] *= src[i] }
      }
    }
  }

  /// Largest absolute difference to `other` (for tests and quantization error).
  public func maxAbsDifference(_ other: Tensor) -> Float {
    precondition(shape == other.shape, "maxAbsDifference: \(shape) vs \(other.shape)")
    return zipWith(other) { abs($0 - $1) }.scalars.max() ?? 0
  }
}
