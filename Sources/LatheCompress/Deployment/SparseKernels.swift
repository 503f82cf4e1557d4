import CKernels
import Dispatch
import LatheTensor

/// Sparse × dense products for pruned layers, through the CSR kernels.
enum SparseKernels {
  /// Sparse or dense, for one example and for batches of 64: clear cases by density, the
  /// rest by timing both paths on this layer (the break-even point depends on its shape).
  static func choosePaths(
    density: Double, rowPointers: [Int32], columns: [Int32], values: [Float], dense: Tensor<Float>, bias: Tensor<Float>?
  ) -> (one: Bool, batches: Bool) {
    if density < 0.05 { return (true, true) }
    if density > 0.6 { return (false, false) }
    let (rows, cols) = (dense.shape[0], dense.shape[1])
    func faster(batch: Int) -> Bool {
      var g = SeededGenerator(seed: 3)
      let x = Tensor<Float>.uniform([batch, cols], low: 0, high: 1, generator: &g)
      var sparseBest = Double.infinity
      var denseBest = Double.infinity
      let runs = batch == 1 ? 40 : 8
      for _ in 0..<runs {
        var t0 = DispatchTime.now().uptimeNanoseconds
        _ = csrProduct(x, rows: rows, cols: cols, rowPointers, columns, values, bias: bias)
        sparseBest = min(sparseBest, Double(DispatchTime.now().uptimeNanoseconds - t0))
        t0 = DispatchTime.now().uptimeNanoseconds
        _ = x.linearForward(weight: dense, bias: bias)
        denseBest = min(denseBest, Double(DispatchTime.now().uptimeNanoseconds - t0))
      }
      return sparseBest < denseBest
    }
    return (faster(batch: 1), faster(batch: 64))
  }

  /// y[b, o] = Σ_i W[o, i]·x[b, i] + bias[o] with W in compressed sparse rows. Batches are
  /// split over the cores by rows of x.
  static func linear(_ x: Tensor<Float>, _ layer: SparseLinear, bias: Tensor<Float>?) -> Tensor<Float> {
    csrProduct(
      x, rows: layer.outputs, cols: layer.inputs, layer.rowPointers, layer.columns, layer.values, bias: bias)
  }

  static func csrProduct(
    _ x: Tensor<Float>, rows: Int, cols: Int, _ rowPointers: [Int32], _ columnIndices: [Int32], _ values: [Float],
    bias: Tensor<Float>?
  ) -> Tensor<Float> {
    let batch = x.shape[0]
    let (inputs, outputs) = (Int32(cols), Int32(rows))
    let biasValues = bias?.scalars
    return x.withUnsafeBufferPointer { xp in
      Tensor<Float>(shape: [batch, rows]) { y in
        rowPointers.withUnsafeBufferPointer { rp in
          columnIndices.withUnsafeBufferPointer { cp in
            values.withUnsafeBufferPointer { vp in
              if batch == 1 {
                lk_spmv(
                  outputs, inputs, rp.baseAddress!, cp.baseAddress!, vp.baseAddress!, xp.baseAddress!, biasValues,
                  y.baseAddress!)
                return
              }
              let workers = batch >= 64 ? min(Parallel.coreCount, batch / 32) : 1
              let rowsPerWorker = (batch + workers - 1) / workers
              Parallel.forEach(workers) { w in
                let start = w * rowsPerWorker
                let count = min(rowsPerWorker, batch - start)
                guard count > 0 else { return }
                lk_spmm(
                  Int32(count), outputs, inputs, rp.baseAddress!, cp.baseAddress!, vp.baseAddress!,
                  xp.baseAddress! + start * cols, biasValues, y.baseAddress! + start * rows, nil)
              }
            }
          }
        }
      }
    }
  }
}
