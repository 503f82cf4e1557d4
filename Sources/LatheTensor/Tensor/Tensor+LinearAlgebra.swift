import CKernels

extension Tensor where Scalar == Float {
  /// Matrix product of [m, k] and [k, n] (after optional transposes) through the BLAS.
  /// Rank-3 operands are treated as a batch of matrices.
  public func matmul(_ other: Tensor, transposeSelf: Bool = false, transposeOther: Bool = false) -> Tensor {
    if rank == 3 || other.rank == 3 {
      return batchedMatmul(other, transposeSelf: transposeSelf, transposeOther: transposeOther)
    }
    precondition(rank == 2 && other.rank == 2, "matmul needs matrices, got \(shape) and \(other.shape)")
    let a = contiguous()
    let b = other.contiguous()
    let m = transposeSelf ? a.shape[1] : a.shape[0]
    let k = transposeSelf ? a.shape[0] : a.shape[1]
    let kb = transposeOther ? b.shape[1] : b.shape[0]
    let n = transposeOther ? b.shape[0] : b.shape[1]
    precondition(k == kb, "matmul: inner dimensions \(shape) x \(other.shape) do not agree")
    let result = Tensor(uninitializedShape: [m, n])
    if k == 0 {
      result.storage.pointer.initialize(repeating: 0, count: m * n)
      return result
    }
    lk_sgemm(
      transposeSelf ? 1 : 0, transposeOther ? 1 : 0, Int32(m), Int32(n), Int32(k), 1,
      a.storage.pointer + a.offset, Int32(a.shape[1]), b.storage.pointer + b.offset, Int32(b.shape[1]), 0,
      result.storage.pointer, Int32(n))
    return result
  }

  private func batchedMatmul(_ other: Tensor, transposeSelf: Bool, transposeOther: Bool) -> Tensor {
    let batch = rank == 3 ? shape[0] : other.shape[0]
    let products = (0..<batch).map { i -> Tensor in
      let a = rank == 3 ? sliced(axis: 0, i..<(i + 1)).squeezed(axes: [0]) : self
      let b = other.rank == 3 ? other.sliced(axis: 0, i..<(i + 1)).squeezed(axes: [0]) : other
      return a.matmul(b, transposeSelf: transposeSelf, transposeOther: transposeOther).unsqueezed(axis: 0)
    }
    return Tensor.concatenate(products, axis: 0)
  }
}
