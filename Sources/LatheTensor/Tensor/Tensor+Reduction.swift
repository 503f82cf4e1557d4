import CKernels

// Reductions along axes. Everything reduces through `reduce(axes:)`, which views the tensor
// as [outer, reduced, inner] after moving the reduced axes together.

extension Tensor where Scalar == Float {
  /// Sum of every element.
  public func sum() -> Float {
    withUnsafeBufferPointer { p in
      var total: Float = 0
      for v in p { total += v }
      return total
    }
  }

  public func mean() -> Float { count == 0 ? 0 : sum() / Float(count) }

  /// Sum over `axes`; reduced axes stay as size 1 when `keepingDimensions`.
  public func sum(axes: [Int], keepingDimensions: Bool = false) -> Tensor {
    let reduced = Set(axes.map(normalizedAxis))
    // Trailing axes of a dense tensor (a global average pool's H and W, a row's features): each
    // output is one contiguous run, summed by lk_row_sums with eight partial sums. The generic
    // fold below calls its closure per element, one dependent addition after another.
    if !reduced.isEmpty, reduced == Set((rank - reduced.count)..<rank), isContiguous {
      let keptShape = Array(shape.prefix(rank - reduced.count))
      let run = shape.suffix(reduced.count).reduce(1, *)
      let rows = keptShape.reduce(1, *)
      let result = withUnsafeBufferPointer { src in
        Tensor(shape: keptShape) { lk_row_sums(src.baseAddress, rows, run, $0.baseAddress) }
      }
      if keepingDimensions { return result.reshaped(keptShape + Array(repeating: 1, count: reduced.count)) }
      return result
    }
    return reduce(axes: axes, keepingDimensions: keepingDimensions, initial: 0, +)
  }

  public func mean(axes: [Int], keepingDimensions: Bool = false) -> Tensor {
    let n = Set(axes.map(normalizedAxis)).reduce(1) { $0 * shape[$1] }
    return sum(axes: axes, keepingDimensions: keepingDimensions) / Float(Swift.max(n, 1))
  }

  public func max(axes: [Int], keepingDimensions: Bool = false) -> Tensor {
    reduce(axes: axes, keepingDimensions: keepingDimensions, initial: -.infinity) { Swift.max($0, $1) }
  }

  /// Generic reduction: moves reduced axes last, then folds each run of reduced elements.
  public func reduce(axes: [Int], keepingDimensions: Bool, initial: Float, _ op: (Float, Float) -> Float) -> Tensor {
    let reduced = Set(axes.map(normalizedAxis))
    if reduced == Set(0..<reduced.count), !reduced.isEmpty, reduced.count < rank {
      return reduceLeading(reduced.count, keepingDimensions: keepingDimensions, initial: initial, op)
    }
    let kept = (0..<rank).filter { !reduced.contains($0) }
    let order = kept + reduced.sorted()
    let moved = permuted(order).contiguous()
    let outCount = kept.reduce(1) { $0 * shape[$1] }
    let run = reduced.reduce(1) { $0 * shape[$1] }
    let result = Tensor(uninitializedShape: kept.map { shape[$0] })
    let dst = result.storage.pointer
    moved.withUnsafeBufferPointer { src in
      for o in 0..<outCount {
        var acc = initial
        let base = o * run
        for r in 0..<run { acc = op(acc, src[base + r]) }
        dst[o] = acc
      }
    }
    if keepingDimensions {
      return result.reshaped((0..<rank).map { reduced.contains($0) ? 1 : shape[$0] })
    }
    return result
  }

  /// Reduction over the first `count` axes, row by row so the inner loop runs over contiguous
  /// memory (bias gradients: a column sum over the batch).
  private func reduceLeading(_ count: Int, keepingDimensions: Bool, initial: Float, _ op: (Float, Float) -> Float)
    -> Tensor
  {
    let outer = shape[..<count].reduce(1, *)
    let inner = shape[count...].reduce(1, *)
    let result = withUnsafeBufferPointer { src in
      Tensor(shape: Array(shape[count...])) { dst in
        dst.initialize(repeating: initial)
        for o in 0..<outer {
          let row = src.baseAddress! + o * inner
          for j in 0..<inner { dst[j] = op(dst[j], row[j]) }
        }
      }
    }
    return keepingDimensions ? result.reshaped([Int](repeating: 1, count: count) + Array(shape[count...])) : result
  }

  /// Sums a broadcast gradient back down to `target` (the inverse of broadcasting).
  public func sumToShape(_ target: [Int]) -> Tensor {
    if shape == target { return self }
    let lead = rank - target.count
    precondition(lead >= 0, "cannot reduce \(shape) to \(target)")
    var axes = Array(0..<lead)
    for (i, d) in target.enumerated() where d == 1 && shape[lead + i] != 1 { axes.append(lead + i) }
    return sum(axes: axes, keepingDimensions: true).reshaped(target)
  }

  /// Index of the largest value in each row of a [rows, columns] tensor.
  public func argmaxRows() -> [Int] {
    precondition(rank == 2, "argmaxRows needs a matrix, got \(shape)")
    let columns = shape[1]
    return withUnsafeBufferPointer { p in
      (0..<shape[0]).map { row in
        var best = 0
        for c in 1..<Swift.max(columns, 1) where p[row * columns + c] > p[row * columns + best] { best = c }
        return best
      }
    }
  }
}
