/// The error compensation GPTQ and SparseGPT share (Optimal Brain Surgeon through the upper
/// Cholesky factor U of the inverse Hessian, Frantar & Alistarh 2022): when column i of row r is
/// replaced (rounded, or pruned to zero), the rest of the row absorbs the error, column j by
/// (error / U_ii)·U_ij. Inside a block of columns that happens at once; the block's errors reach
/// the columns after it in one pass at the end of the block (the "lazy batch" update).
enum OBSUpdate {
  /// The weights of one layer being updated: `w` [rows, columns] row-major, `u` [columns,
  /// columns], and `errors` [rows, block] holding the current block's scaled errors.
  struct Pass {
    let w: UnsafeMutableBufferPointer<Double>
    let u: UnsafeBufferPointer<Double>
    let errors: UnsafeMutableBufferPointer<Double>
    let rows: Int
    let columns: Int
    let block: Int

    /// Row r's column i changed by `difference` (old − new): spread over columns i+1..<end
    /// and kept for the lazy update of the columns after the block starting at `start`.
    func spread(_ difference: Double, row r: Int, column i: Int, blockStart start: Int, blockEnd end: Int) {
      let error = difference / u[i * columns + i]
      errors[r * block + i - start] = error
      guard error != 0 else { return }
      for j in (i + 1)..<end { w[r * columns + j] -= error * u[i * columns + j] }
    }

    /// The block start..<end's errors applied to every column after it.
    func finishBlock(start: Int, end: Int) {
      guard end < columns else { return }
      for r in 0..<rows {
        for k in start..<end {
          let error = errors[r * block + k - start]
          guard error != 0 else { continue }
          for j in end..<columns { w[r * columns + j] -= error * u[k * columns + j] }
        }
      }
    }
  }
}
