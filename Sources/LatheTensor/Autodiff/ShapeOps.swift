// Reductions and movement on variables: their gradients move or spread the incoming gradient
// back to where each element came from.

extension Variable {
  public func sum() -> Variable {
    Variable(Tensor(value.sum()), parents: [self]) { g in
      [Tensor(repeating: g.scalar, shape: self.shape)]
    }
  }

  public func mean() -> Variable {
    let n = Float(Swift.max(value.count, 1))
    return Variable(Tensor(value.mean()), parents: [self]) { g in
      [Tensor(repeating: g.scalar / n, shape: self.shape)]
    }
  }

  public func sum(axes: [Int], keepingDimensions: Bool = false) -> Variable {
    let kept = value.sum(axes: axes, keepingDimensions: true)
    let y = keepingDimensions ? kept : value.sum(axes: axes)
    return Variable(y, parents: [self]) { g in
      [g.reshaped(kept.shape).expanded(to: self.shape).contiguous()]
    }
  }

  public func mean(axes: [Int], keepingDimensions: Bool = false) -> Variable {
    let n = Float(Set(axes.map(value.normalizedAxis)).reduce(1) { $0 * shape[$1] })
    return sum(axes: axes, keepingDimensions: keepingDimensions) * (1 / n)
  }

  public func reshaped(_ newShape: [Int]) -> Variable {
    Variable(value.reshaped(newShape), parents: [self]) { g in [g.reshaped(self.shape)] }
  }

  /// Keeps the first `startAxis` axes and folds the rest into one ([N, C, H, W] -> [N, CHW]).
  public func flattened(startAxis: Int = 1) -> Variable {
    let lead = Array(shape.prefix(startAxis))
    return reshaped(lead + [shape.dropFirst(startAxis).reduce(1, *)])
  }

  public func permuted(_ permutation: [Int]) -> Variable {
    var inverse = [Int](repeating: 0, count: permutation.count)
    for (i, a) in permutation.enumerated() { inverse[a] = i }
    return Variable(value.permuted(permutation).contiguous(), parents: [self]) { g in
      [g.permuted(inverse).contiguous()]
    }
  }

  public var transposed: Variable {
    var permutation = Array(0..<shape.count)
    permutation.swapAt(shape.count - 1, shape.count - 2)
    return permuted(permutation)
  }

  /// Elements `range` along `axis`.
  public func sliced(axis: Int, _ range: Range<Int>) -> Variable {
    let axis = value.normalizedAxis(axis)
    return Variable(value.sliced(axis: axis, range).contiguous(), parents: [self]) { g in
      var pieces: [Tensor<Float>] = []
      var before = self.shape
      before[axis] = range.lowerBound
      var after = self.shape
      after[axis] = self.shape[axis] - range.upperBound
      if range.lowerBound > 0 { pieces.append(.zeros(before)) }
      pieces.append(g)
      if after[axis] > 0 { pieces.append(.zeros(after)) }
      return [Tensor.concatenate(pieces, axis: axis)]
    }
  }

  /// Variables joined along `axis`.
  public static func concatenate(_ parts: [Variable], axis: Int) -> Variable {
    let axis = parts[0].value.normalizedAxis(axis)
    let widths = parts.map { $0.shape[axis] }
    return Variable(Tensor.concatenate(parts.map(\.value), axis: axis), parents: parts) { g in
      var start = 0
      return widths.map { width in
        defer { start += width }
        return g.sliced(axis: axis, start..<(start + width)).contiguous()
      }
    }
  }
}
