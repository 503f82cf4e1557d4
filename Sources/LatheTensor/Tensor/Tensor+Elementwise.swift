import CKernels

// Element-wise arithmetic with NumPy broadcasting. Every binary operation walks the broadcast
// shape as runs of its innermost (merged) axis; + - * / run each in CKernels' lk_binary, any
// other function in a Swift loop.

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
    broadcastRuns(other) { out, a, sa, b, sb, n in
      switch (sa, sb) {
      case (1, 1): for j in 0..<n { out[j] = op(a[j], b[j]) }
      case (1, 0):
        let v = b[0]
        for j in 0..<n { out[j] = op(a[j], v) }
      case (0, 1):
        let v = a[0]
        for j in 0..<n { out[j] = op(v, b[j]) }
      default: for j in 0..<n { out[j] = op(a[j * sa], b[j * sb]) }
      }
    }
  }

  /// `self op other` after broadcasting, each run in CKernels' vectorised loop (lk_binary).
  @usableFromInline
  func arithmetic(_ other: Tensor, _ op: Int32) -> Tensor {
    broadcastRuns(other) { out, a, sa, b, sb, n in lk_binary(op, a, sa, b, sb, out, n) }
  }

  /// The broadcast result of `self` and `other`, filled by `run(out, a, strideA, b, strideB,
  /// count)` once per run of the innermost (merged) axis: out[j] from a[j*strideA] and b[j*strideB].
  @usableFromInline
  func broadcastRuns(
    _ other: Tensor,
    _ run: (UnsafeMutablePointer<Float>, UnsafePointer<Float>, Int, UnsafePointer<Float>, Int, Int) -> Void
  ) -> Tensor {
    if shape == other.shape && isContiguous && other.isContiguous {
      let result = Tensor(uninitializedShape: shape)
      withUnsafeBufferPointer { a in
        other.withUnsafeBufferPointer { b in
          if a.count > 0 { run(result.storage.pointer, a.baseAddress!, 1, b.baseAddress!, 1, a.count) }
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
    let pa = UnsafePointer(a.storage.pointer)
    let pb = UnsafePointer(b.storage.pointer)
    if outShape.isEmpty {
      run(dst, pa + a.offset, 1, pb + b.offset, 1, 1)
      return result
    }
    if outShape.contains(0) { return result }
    // Adjacent axes that both operands step through as one (a channel's H and W against a
    // [1, C, 1, 1] scale) are merged, so a run covers whole planes, not rows.
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
    // Walk all but the last axis with an index; the last is one run.
    let last = dims.count - 1
    let inner = dims[last]
    let outer = dims[..<last].reduce(1, *)
    var index = [Int](repeating: 0, count: last)
    var oa = a.offset
    var ob = b.offset
    var o = 0
    for _ in 0..<outer {
      run(dst + o, pa + oa, stridesA[last], pb + ob, stridesB[last], inner)
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

  public static func + (a: Tensor, b: Tensor) -> Tensor { a.arithmetic(b, Int32(LK_BINARY_ADD)) }
  public static func - (a: Tensor, b: Tensor) -> Tensor { a.arithmetic(b, Int32(LK_BINARY_SUB)) }
  public static func * (a: Tensor, b: Tensor) -> Tensor { a.arithmetic(b, Int32(LK_BINARY_MUL)) }
  public static func / (a: Tensor, b: Tensor) -> Tensor { a.arithmetic(b, Int32(LK_BINARY_DIV)) }
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
