import CKernels
import LatheTensor

/// Sparse × dense products for pruned layers, through the CSR kernels.
enum SparseKernels {
  /// Whether the sparse kernel beats the dense BLAS at this density and batch (measured).
  static func isFaster(density: Double, batch: Int) -> Bool { lk_sparse_is_faster(density, Int32(batch)) != 0 }

  /// y[b, o] = Σ_i W[o, i]·x[b, i] + bias[o] with W in compressed sparse rows. Batches are
  /// split over the cores by rows of x.
  static func linear(_ x: Tensor<Float>, _ layer: SparseLinear, bias: Tensor<Float>?) -> Tensor<Float> {
    let batch = x.shape[0]
    let (inputs, outputs) = (Int32(layer.inputs), Int32(layer.outputs))
    let biasValues = bias?.scalars
    return x.withUnsafeBufferPointer { xp in
      Tensor<Float>(shape: [batch, layer.outputs]) { y in
        layer.rowPointers.withUnsafeBufferPointer { rp in
          layer.columns.withUnsafeBufferPointer { cp in
            layer.values.withUnsafeBufferPointer { vp in
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
                  xp.baseAddress! + start * layer.inputs, biasValues, y.baseAddress! + start * layer.outputs, nil)
              }
            }
          }
        }
      }
    }
  }
}
