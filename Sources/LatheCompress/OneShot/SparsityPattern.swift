/// Where pruning may put its zeros in a Linear weight [out, in].
public enum SparsityPattern: Sendable, Equatable, CustomStringConvertible {
  /// Anywhere; each output row loses its share (Wanda, SparseGPT) or the layer does
  /// (magnitude).
  case unstructured
  /// N:M semi-structured: at most `kept` nonzeros in every run of `group` consecutive inputs of
  /// a row (2:4 is what sparse tensor cores and Lathe's 2:4 kernel run); the sparsity is
  /// 1 − kept/group.
  case keep(kept: Int, group: Int)

  /// "unstructured", or "N:M" with 0 < N < M ≤ 128; nil otherwise.
  public init?(_ text: String) {
    if text == "unstructured" {
      self = .unstructured
      return
    }
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, let n = Int(parts[0]), let m = Int(parts[1]), n > 0, n < m, m <= 128 else { return nil }
    self = .keep(kept: n, group: m)
  }

  public var description: String {
    switch self {
    case .unstructured: return "unstructured"
    case .keep(let n, let m): return "\(n):\(m)"
    }
  }

  /// The fraction of zeros an N:M pattern fixes; nil for unstructured.
  public var impliedSparsity: Double? {
    guard case .keep(let n, let m) = self else { return nil }
    return 1 - Double(n) / Double(m)
  }

  /// The mask [rows, columns] (1 keep, 0 remove) keeping the highest `scores`: per row, the
  /// lowest round(columns·sparsity) go (unstructured), or the lowest M − N of every M
  /// consecutive inputs (N:M; columns must be a multiple of M). Ties go to the lower index.
  public func mask(scores: [Double], rows: Int, columns: Int, sparsity: Double) -> [Float] {
    var mask = [Float](repeating: 1, count: rows * columns)
    let (width, remove): (Int, Int)
    switch self {
    case .unstructured: (width, remove) = (columns, Int((Double(columns) * sparsity).rounded()))
    case .keep(let n, let m):
      precondition(columns % m == 0, "N:M needs a width that is a multiple of M")
      (width, remove) = (m, m - n)
    }
    guard remove > 0 else { return mask }
    for r in 0..<rows {
      var start = 0
      while start < columns {
        let range = (r * columns + start)..<(r * columns + start + width)
        let lowest = range.sorted { (scores[$0], $0) < (scores[$1], $1) }.prefix(remove)
        for i in lowest { mask[i] = 0 }
        start += width
      }
    }
    return mask
  }
}
