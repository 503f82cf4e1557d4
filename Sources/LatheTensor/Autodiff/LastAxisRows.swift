// Fully connected layers act on the last axis: a transformer's [batch, sequence, hidden]
// activations go through the same 2-D product as an MLP's [batch, hidden] ones. The leading
// axes fold into rows (a view, no copy, for a contiguous input), the row kernel runs once over
// all of them, and the result takes the leading axes back. Reshapes record their gradients, so
// training through a rank-3 Linear needs nothing more.

extension Variable {
  /// `rows`, a computation from [rows, in] to [rows, out], applied to the last axis of this
  /// variable of any rank >= 2: [..., in] -> [..., out]. Rank 2 calls `rows` directly.
  public func overLastAxis(_ rows: (Variable) -> Variable) -> Variable {
    guard shape.count > 2 else { return rows(self) }
    let leading = Array(shape.dropLast())
    let y = rows(reshaped([leading.reduce(1, *), shape[shape.count - 1]]))
    return y.reshaped(leading + [y.shape[y.shape.count - 1]])
  }

  /// y = x·Wᵀ + b over the last axis of x [..., in], W [out, in], b [out]: what `Linear` runs.
  public func linearOverLastAxis(weight: Variable, bias: Variable?) -> Variable {
    overLastAxis { $0.linear(weight: weight, bias: bias) }
  }
}
