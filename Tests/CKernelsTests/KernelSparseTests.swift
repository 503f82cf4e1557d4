import CKernels
import LatheTensor
import LatheTestSupport
import XCTest

/// CSR construction and the sparse Linear kernels against dense loops.
final class KernelSparseTests: XCTestCase {
  struct CSR {
    var rowPtr: [Int32]
    var colIdx: [Int32]
    var values: [Float]
  }

  func csr(_ w: [Float], rows: Int, cols: Int) -> CSR {
    var rowPtr = [Int32](repeating: 0, count: rows + 1)
    let nnz = lk_csr_from_dense(w, Int32(rows), Int32(cols), &rowPtr, nil, nil)
    var colIdx = [Int32](repeating: 0, count: nnz)
    var values = [Float](repeating: 0, count: nnz)
    XCTAssertEqual(lk_csr_from_dense(w, Int32(rows), Int32(cols), &rowPtr, &colIdx, &values), nnz)
    return CSR(rowPtr: rowPtr, colIdx: colIdx, values: values)
  }

  /// W with the given density; row 0 left entirely empty to cover empty rows.
  func sparseWeights(rows: Int, cols: Int, density: Double, _ rng: inout SeededGenerator) -> [Float] {
    (0..<(rows * cols)).map { i in
      i >= cols && Double.random(in: 0..<1, using: &rng) < density ? Float.random(in: -1...1, using: &rng) : 0
    }
  }

  func testCSRRoundTrip() {
    var rng = SeededGenerator(seed: 8)
    let (rows, cols) = (17, 65)
    let w = sparseWeights(rows: rows, cols: cols, density: 0.3, &rng)
    let m = csr(w, rows: rows, cols: cols)
    XCTAssertEqual(m.values.count, w.filter { $0 != 0 }.count)
    XCTAssertEqual(m.rowPtr[1], 0, "row 0 is empty")
    var dense = [Float](repeating: 0, count: rows * cols)
    for r in 0..<rows {
      for p in Int(m.rowPtr[r])..<Int(m.rowPtr[r + 1]) { dense[r * cols + Int(m.colIdx[p])] = m.values[p] }
    }
    XCTAssertEqual(dense, w)
  }

  func reference(_ w: [Float], _ x: [Float], _ bias: [Float]?, batch: Int, rows: Int, cols: Int) -> [Double] {
    var y = [Double](repeating: 0, count: batch * rows)
    for b in 0..<batch {
      for r in 0..<rows {
        var s = Double(bias?[r] ?? 0)
        for c in 0..<cols where w[r * cols + c] != 0 { s += Double(w[r * cols + c]) * Double(x[b * cols + c]) }
        y[b * rows + r] = s
      }
    }
    return y
  }

  func testSpMVAndBatchedMatchDenseOnEveryPath() {
    var rng = SeededGenerator(seed: 9)
    let shapes = [(1, 1), (3, 17), (17, 3), (100, 300), (300, 784), (10, 65)]
    for (rows, cols) in shapes {
      for density in [0.05, 0.5, 1.0] {
        let w = sparseWeights(rows: rows, cols: cols, density: density, &rng)
        let m = csr(w, rows: rows, cols: cols)
        let bias: [Float]? = rows % 2 == 1 ? rng.floats(rows, -1...1) : nil
        for batch in [1, 3, 17, 64, 65, 130] where batch == 1 || rows * cols <= 30000 || batch == 65 {
          let x = rng.floats(batch * cols, -1...1)
          let expected = reference(w, x, bias, batch: batch, rows: rows, cols: cols)
          forEachKernelPath { _, path in
            var y = [Float](repeating: .nan, count: batch * rows)
            if batch == 1 {
              lk_spmv(Int32(rows), Int32(cols), m.rowPtr, m.colIdx, m.values, x, bias, &y)
            } else {
              lk_spmm(
                Int32(batch), Int32(rows), Int32(cols), m.rowPtr, m.colIdx, m.values, x, bias, &y, nil)
            }
            for i in 0..<y.count where abs(Double(y[i]) - expected[i]) > 1e-4 * max(1, abs(expected[i])) {
              XCTFail("\(path) \(rows)x\(cols) density \(density) batch \(batch) [\(i)]: \(y[i]) vs \(expected[i])")
              return
            }
          }
        }
      }
    }
  }

  /// The gather-free sliced layout against the dense loops: shapes that are not multiples of
  /// the 16-row slices or the column blocks, natural and permuted row orders, bias and ReLU,
  /// blocks of 32 (the AVX-512 kernel's), 16 (AVX2's) and 7 (none's: portable on every path).
  func testSlicedSpMVMatchesDenseOnEveryPath() {
    var rng = SeededGenerator(seed: 11)
    for (rows, cols) in [(1, 1), (3, 17), (17, 33), (100, 300), (300, 784), (40, 65)] {
      for density in [0.03, 0.4, 1.0] {
        let w = sparseWeights(rows: rows, cols: cols, density: density, &rng)
        let m = csr(w, rows: rows, cols: cols)
        let bias: [Float]? = rows % 2 == 1 ? rng.floats(rows, -1...1) : nil
        let x = rng.floats(cols, -1...1)
        let expected = reference(w, x, bias, batch: 1, rows: rows, cols: cols)
        let reversed = (0..<Int32(rows)).reversed().map { $0 }
        let layouts: [(order: [Int32]?, block: Int)] = [(nil, 32), (reversed, 32), (nil, 16), (reversed, 16), (nil, 7)]
        for (order, block) in layouts {
          var entries = 0
          let steps = lk_sliced_from_csr(
            Int32(rows), Int32(cols), Int32(block), m.rowPtr, m.colIdx, m.values, order, nil, nil, nil, nil, nil,
            &entries)
          var sliceEntries = [Int32](repeating: 0, count: (rows + 15) / 16 + 1)
          var blocks = [Int32](repeating: 0, count: entries)
          var stepCounts = [Int32](repeating: 0, count: entries)
          var values = [Float](repeating: 0, count: steps * 16)
          var lanes = [UInt8](repeating: 0, count: steps * 16)
          _ = lk_sliced_from_csr(
            Int32(rows), Int32(cols), Int32(block), m.rowPtr, m.colIdx, m.values, order, &sliceEntries, &blocks,
            &stepCounts, &values, &lanes, nil)
          XCTAssertGreaterThanOrEqual(steps * 16, m.values.count, "every nonzero has a slot")
          XCTAssertEqual(values.filter { $0 != 0 }.count, m.values.count)
          for relu in [false, true] {
            forEachKernelPath { _, path in
              var y = [Float](repeating: .nan, count: rows)
              lk_spmv_sliced(
                Int32(rows), Int32(cols), Int32(block), sliceEntries, blocks, stepCounts, values, lanes, order, x, bias,
                relu ? 1 : 0, &y)
              for i in 0..<rows {
                let want = relu ? max(0, expected[i]) : expected[i]
                if abs(Double(y[i]) - want) > 1e-4 * max(1, abs(want)) {
                  XCTFail(
                    "\(path) block \(block) \(rows)x\(cols) density \(density) relu \(relu) [\(i)]: \(y[i]) vs \(want)")
                  return
                }
              }
            }
          }
        }
      }
    }
  }

  func testSpMMWithCallerScratch() {
    var rng = SeededGenerator(seed: 10)
    let (rows, cols, batch) = (30, 40, 70)
    let w = sparseWeights(rows: rows, cols: cols, density: 0.2, &rng)
    let m = csr(w, rows: rows, cols: cols)
    let x = rng.floats(batch * cols, -1...1)
    var scratch = [Float](repeating: 0, count: lk_spmm_scratch_size(Int32(rows), Int32(cols)))
    var y = [Float](repeating: 0, count: batch * rows)
    lk_spmm(Int32(batch), Int32(rows), Int32(cols), m.rowPtr, m.colIdx, m.values, x, nil, &y, &scratch)
    let expected = reference(w, x, nil, batch: batch, rows: rows, cols: cols)
    for i in 0..<y.count { assertClose(y[i], expected[i], 1e-4, "output \(i)") }
  }
}
