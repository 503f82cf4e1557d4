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
    // Adjacent axes that both operands step through as one (a channel's H and W against a
    // [1, C, 1, 1] scale) are merged, so the inner loop runs over whole planes, not rows.
    var dims = [outShape[0]]
    var stridesA = [a.strides[0]]
    var stridesB = [b.strides[0]]
    for axis in 1..<outShape.count {
      let size = outShape[axis]
      let last = dims.count - 1
      if stridesA[last] == a.strides[axis] * size && stridesB[last] == b.strides[axis] * size {
        dims[last] *= size
        stridesA[last] = a.strides[axis]
        stridesB[last] = b.strides[axis]
      } else {
        dims.append(size)
        stridesA.append(a.strides[axis])
        stridesB.append(b.strides[axis])
      }
    }
    // Walk all but the last axis with an index; run the last axis as an inner loop, with the
    // common stride patterns spelled out so the compiler vectorises them (a closure over
    // arbitrary strides ran at tens of nanoseconds per element).
    let last = dims.count - 1
    let inner = dims[last]
    let sa = stridesA[last]
    let sb = stridesB[last]
    let outer = dims[..<last].reduce(1, *)
    var index = [Int](repeating: 0, count: last)
    var oa = a.offset
    var ob = b.offset
    var o = 0
    for _ in 0..<outer {
      let out = dst + o
      let rowA = pa + oa
      let rowB = pb + ob
      switch (sa, sb) {
      case (1, 1): for j in 0..<inner { out[j] = op(rowA[j], rowB[j]) }
      case (1, 0):
        let v = rowB[0]
        for j in 0..<inner { out[j] = op(rowA[j], v) }
      case (0, 1):
        let v = rowA[0]
        for j in 0..<inner { out[j] = op(v, rowB[j]) }
      default: for j in 0..<inner { out[j] = op(rowA[j * sa], rowB[j * sb]) }
      }
      o += inner
      var axis = last - 1
      while axis >= 0 {
        index[axis] += 1
        oa += stridesA[axis]
        ob += stridesB[axis]
        if index[axis] < dims[axis] { break }
        oa -= stridesA[axis] * dims[axis]
        ob -= stridesB[axis] * dims[axis]
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
