import CKernels
import Dispatch
import LatheTensor

/// Sparse × dense products for pruned layers, through the CSR kernels.
enum SparseKernels {
  /// How a sparse layer computes one example.
  enum SingleExamplePath: Equatable {
    case dense
    /// CSR rows with gathered inputs (lk_spmv).
    case csr
    /// The gather-free sliced layout (lk_spmv_sliced).
    case sliced
  }

  /// The fastest path for one example and whether sparse beats dense for batches of 64: clear
  /// cases by density, the rest by timing every path on the current kernel path (the
  /// break-even point depends on the layer's shape and on the CPU: gathers are cheap on some,
  /// slow on others, and AVX2's sliced kernel gains less than AVX-512's). Dense is timed as a
  /// float `Linear` runs it (`denseProduct`), so a sparse layer slower than its float version
  /// runs as that float version. Each shape is timed once per process and path (`choices`):
  /// later layers of that shape get the same answer.
  ///
  /// What batches pick: CSR spmm (`lk_spmm`: every nonzero scales 64 batch rows held in
  /// registers, x transposed once per chunk) does work in proportion to the nonzeros, with no
  /// padding and no gathers, where the dense product does 1/density times the multiply-adds at
  /// a better rate per multiply-add. At LeNet-300-100's 90% (fc1 93.7%, fc2 62% zeros) spmm wins
  /// on every path of this EPYC: 784→300 at 90% zeros and batch 256 took 0.40-0.44 ms against
  /// 1.22 ms dense, at 80% 0.55-0.61 ms; at 50% dense wins (1.25-1.45 ms sparse).
  static func choosePaths(
    density: Double, rowPointers: [Int32], columns: [Int32], values: [Float], sliced: SlicedSparseRows,
    dense: Tensor<Float>, packed: PackedWeight, bias: Tensor<Float>?, choices: SparseKernelChoices = .shared
  ) -> SparseKernelChoice {
    if density > 0.6 { return SparseKernelChoice(singleExample: .dense, sparseForBatches: false) }
    let shape = SparseLayerShape(
      rows: dense.shape[0], cols: dense.shape[1], nonzeros: values.count, isa: lk_isa_current())
    return choices.choice(for: shape) {
      timePaths(
        density: density, rowPointers: rowPointers, columns: columns, values: values, sliced: sliced, dense: dense,
        packed: packed, bias: bias)
    }
  }

  /// x·Wᵀ + b as the float `Linear` computes it: through the weight packed once where that pays
  /// (few rows), else the BLAS.
  static func denseProduct(_ x: Tensor<Float>, _ weight: Tensor<Float>, packed: PackedWeight, bias: Tensor<Float>?)
    -> Tensor<Float>
  {
    if PackedWeight.pays(rows: x.shape[0]), let packedWeight = packed.packed(weight) {
      return x.linearForward(packed: packedWeight, outputs: weight.shape[0], bias: bias)
    }
    return x.linearForward(weight: weight, bias: bias)
  }

  /// Times every path on one layer's weight and picks the fastest.
  private static func timePaths(
    density: Double, rowPointers: [Int32], columns: [Int32], values: [Float], sliced: SlicedSparseRows,
    dense: Tensor<Float>, packed: PackedWeight, bias: Tensor<Float>?
  ) -> SparseKernelChoice {
    let (rows, cols) = (dense.shape[0], dense.shape[1])
    func best(of runs: Int, _ body: () -> Void) -> Double {
      var fastest = Double.infinity
      for _ in 0..<runs {
        let t0 = DispatchTime.now().uptimeNanoseconds
        body()
        fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - t0))
      }
      return fastest
    }
    var g = SeededGenerator(seed: 3)
    let one = Tensor<Float>.uniform([1, cols], low: 0, high: 1, generator: &g)
    var timings: [(path: SingleExamplePath, nanoseconds: Double)] = []
    for _ in 0..<2 {  // interleaved rounds, so a busy moment does not favour one path
      timings.append(
        (.csr, best(of: 40) { _ = csrProduct(one, rows: rows, cols: cols, rowPointers, columns, values, bias: bias) }))
      timings.append((.sliced, best(of: 40) { _ = slicedProduct(one, sliced, bias: bias, relu: false) }))
      if density >= 0.05 {
        timings.append((.dense, best(of: 40) { _ = denseProduct(one, dense, packed: packed, bias: bias) }))
      }
    }
    let fastestOne = timings.min { $0.nanoseconds < $1.nanoseconds }!.path
    if density < 0.05 { return SparseKernelChoice(singleExample: fastestOne, sparseForBatches: true) }
    let batch = Tensor<Float>.uniform([64, cols], low: 0, high: 1, generator: &g)
    let sparse = best(of: 8) { _ = csrProduct(batch, rows: rows, cols: cols, rowPointers, columns, values, bias: bias) }
    let denseBatch = best(of: 8) { _ = denseProduct(batch, dense, packed: packed, bias: bias) }
    return SparseKernelChoice(singleExample: fastestOne, sparseForBatches: sparse < denseBatch)
  }

  /// One example through the sliced layout, bias and ReLU applied in the kernel.
  static func slicedProduct(_ x: Tensor<Float>, _ sliced: SlicedSparseRows, bias: Tensor<Float>?, relu: Bool)
    -> Tensor<Float>
  {
    x.withUnsafeBufferPointer { xp in
      Tensor<Float>(shape: [1, sliced.rows]) { y in
        withOptionalPointer(bias) { sliced.product(xp.baseAddress!, bias: $0, relu: relu, into: y.baseAddress!) }
      }
    }
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
    return x.withUnsafeBufferPointer { xp in
      Tensor<Float>(shape: [batch, rows]) { y in
        withOptionalPointer(bias) { biasValues in
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
}
