// Movement ops: they change how elements are addressed, never their values. Most return
// views over the same storage; only concat and contiguous copies allocate.

extension Tensor {
  /// The same elements under a new shape; one dimension may be -1 and is inferred.
  public func reshaped(_ newShape: [Int]) -> Tensor {
    var target = newShape
    if let inferred = target.firstIndex(of: -1) {
      let known = target.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
      precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
      target[inferred] = count / known
    }
    precondition(target.reduce(1, *) == count, "cannot reshape \(shape) (\(count) elements) to \(newShape)")
    let dense = contiguous()
    return Tensor(shape: target, strides: Tensor.rowMajorStrides(target), storage: dense.storage, offset: dense.offset)
  }

  /// Axes reordered: result axis i is this tensor's axis `permutation[i]`. A view.
  public func permuted(_ permutation: [Int]) -> Tensor {
    precondition(permutation.sorted() == Array(0..<rank), "bad permutation \(permutation) for rank \(rank)")
    return Tensor(
      shape: permutation.map { shape[$0] }, strides: permutation.map { strides[$0] }, storage: storage,
      offset: offset)
  }

  /// The last two axes swapped (matrix transpose). A view.
  public var transposed: Tensor {
    precondition(rank >= 2, "transpose needs rank >= 2, got shape \(shape)")
    var permutation = Array(0..<rank)
    permutation.swapAt(rank - 1, rank - 2)
    return permuted(permutation)
  }

  /// Elements `range` along `axis`, optionally every `step`-th. A view.
  public func sliced(axis: Int, _ range: Range<Int>, step: Int = 1) -> Tensor {
    let axis = normalizedAxis(axis)
    precondition(range.lowerBound >= 0 && range.upperBound <= shape[axis], "slice \(range) out of \(shape[axis])")
    precondition(step >= 1, "slice step must be positive")
    var newShape = shape
    var newStrides = strides
    newShape[axis] = (range.count + step - 1) / step
    newStrides[axis] = strides[axis] * step
    return Tensor(
      shape: newShape, strides: newStrides, storage: storage, offset: offset + range.lowerBound * strides[axis])
  }

  /// This tensor seen with the given (broadcast-compatible) shape, repeating along stride 0.
  public func expanded(to target: [Int]) -> Tensor {
    precondition(target.count >= rank, "cannot expand \(shape) to \(target)")
    let lead = target.count - rank
    var newStrides = [Int](repeating: 0, count: target.count)
    for axis in 0..<rank {
      if shape[axis] == target[lead + axis] {
        newStrides[lead + axis] = shape[axis] == 1 ? 0 : strides[axis]
      } else {
        precondition(shape[axis] == 1, "cannot broadcast \(shape) to \(target)")
      }
    }
    return Tensor(shape: target, strides: newStrides, storage: storage, offset: offset)
  }

  /// A size-1 axis inserted at `axis`.
  public func unsqueezed(axis: Int) -> Tensor {
    let axis = axis < 0 ? axis + rank + 1 : axis
    var newShape = shape
    newShape.insert(1, at: axis)
    return reshaped(newShape)
  }

  /// Size-1 axes removed (all of them when `axes` is nil).
  public func squeezed(axes: [Int]? = nil) -> Tensor {
    let drop = Set((axes ?? shape.indices.filter { shape[$0] == 1 }).map(normalizedAxis))
    return reshaped(shape.enumerated().filter { !drop.contains($0.offset) }.map(\.element))
  }

  /// Tensors joined along `axis`; all other dimensions must agree.
  public static func concatenate(_ parts: [Tensor], axis: Int) -> Tensor {
    precondition(!parts.isEmpty, "concatenate needs at least one tensor")
    let axis = parts[0].normalizedAxis(axis)
    var outShape = parts[0].shape
    outShape[axis] = parts.reduce(0) { total, part in
      precondition(
        part.rank == outShape.count && part.shape.indices.allSatisfy { $0 == axis || part.shape[$0] == outShape[$0] },
        "concatenate: shape \(part.shape) does not match \(outShape) off axis \(axis)")
      return total + part.shape[axis]
    }
    let result = Tensor(uninitializedShape: outShape)
    let outer = outShape[..<axis].reduce(1, *)
    let inner = outShape[(axis + 1)...].reduce(1, *)
    let dst = result.storage.pointer
    var column = 0
    for part in parts {
      let width = part.shape[axis] * inner
      part.withUnsafeBufferPointer { src in
        for o in 0..<outer {
          (dst + o * outShape[axis] * inner + column).update(from: src.baseAddress! + o * width, count: width)
        }
      }
      column += width
    }
    return result
  }

  /// An axis given from the end (-1 is the last) turned into one from the start.
  public func normalizedAxis(_ axis: Int) -> Int {
    let a = axis < 0 ? axis + rank : axis
    precondition(a >= 0 && a < Swift.max(rank, 1), "axis \(axis) out of range for shape \(shape)")
    return a
  }
}

/// The shape two shapes broadcast to (NumPy rules), or nil when they are incompatible.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
  let rank = max(a.count, b.count)
  var result = [Int](repeating: 1, count: rank)
  for i in 0..<rank {
    let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
    let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
    if da == db || db == 1 {
      result[i] = da
    } else if da == 1 {
      result[i] = db
    } else {
      return nil
    }
  }
  return result
}
