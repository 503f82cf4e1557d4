import CKernels

/// A sparse weight in the layout of lk_spmv_sliced (batch-1 products without gathers): rows in
/// slices of 16, columns in blocks as wide as the current path's kernel reads (32 on AVX-512,
/// 16 on AVX2); see sparse.c. Built once from CSR when a layer loads; files keep storing CSR.
/// Package-visible so that LatheBenchmarks times the layout layers run.
package struct SlicedSparseRows {
  let rows: Int
  let cols: Int
  let block: Int
  let sliceEntries: [Int32]
  let entryBlocks: [Int32]
  let entrySteps: [Int32]
  let stepValues: [Float]
  let stepLanes: [UInt8]
  /// Rows by descending nonzero count, so that each slice's rows pad to similar lengths.
  let rowOrder: [Int32]

  package init(rows: Int, cols: Int, rowPointers: [Int32], columns: [Int32], values: [Float]) {
    self.rows = rows
    self.cols = cols
    block = Int(lk_sliced_block())
    let rowOrder = (0..<rows).sorted { a, b in
      let (na, nb) = (rowPointers[a + 1] - rowPointers[a], rowPointers[b + 1] - rowPointers[b])
      return na != nb ? na > nb : a < b
    }.map { Int32($0) }
    self.rowOrder = rowOrder
    var entries = 0
    let steps = lk_sliced_from_csr(
      Int32(rows), Int32(cols), Int32(block), rowPointers, columns, values, rowOrder, nil, nil, nil, nil, nil,
      &entries)
    var sliceEntries = [Int32](repeating: 0, count: (rows + 15) / 16 + 1)
    var entryBlocks = [Int32](repeating: 0, count: entries)
    var entrySteps = [Int32](repeating: 0, count: entries)
    var stepValues = [Float](repeating: 0, count: steps * 16)
    var stepLanes = [UInt8](repeating: 0, count: steps * 16)
    _ = lk_sliced_from_csr(
      Int32(rows), Int32(cols), Int32(block), rowPointers, columns, values, rowOrder, &sliceEntries, &entryBlocks,
      &entrySteps, &stepValues, &stepLanes, nil)
    (self.sliceEntries, self.entryBlocks, self.entrySteps) = (sliceEntries, entryBlocks, entrySteps)
    (self.stepValues, self.stepLanes) = (stepValues, stepLanes)
  }

  /// y = W·x + bias (ReLU'd when `relu`), for one example x of `cols` values.
  package func product(
    _ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?, relu: Bool, into y: UnsafeMutablePointer<Float>
  ) {
    lk_spmv_sliced(
      Int32(rows), Int32(cols), Int32(block), sliceEntries, entryBlocks, entrySteps, stepValues, stepLanes, rowOrder,
      x, bias, relu ? 1 : 0, y)
  }
}
