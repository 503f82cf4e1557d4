import Foundation

/// What decides a sparse layer's kernels: its shape, how many nonzeros it holds (the
/// density), and the kernel path it runs on (`lk_isa_current`: forcing AVX2 on an AVX-512
/// machine, or LK_ISA=avx2, changes which product is fastest). Layers that agree on these run
/// the same kernels.
struct SparseLayerShape: Hashable, Sendable {
  let rows: Int
  let cols: Int
  let nonzeros: Int
  let isa: Int32
}

/// The kernels a sparse layer runs: one path for single examples, and whether CSR beats the
/// dense product for batches.
struct SparseKernelChoice: Equatable, Sendable {
  let singleExample: SparseKernels.SingleExamplePath
  let sparseForBatches: Bool
}

/// The kernel choice of every sparse layer shape this process has timed. Timing is noisy, so
/// timing each layer anew let two layers of the same shape, or a layer and its copy, run
/// different kernels from one run to the next; here each shape is timed once and the answer
/// kept for the life of the process.
final class SparseKernelChoices: @unchecked Sendable {
  static let shared = SparseKernelChoices()

  /// Guards `choices` and `timedShapes`. Held while a shape is timed, so that two threads
  /// building the same shape time it once, and no timing runs beside another one.
  private let lock = NSLock()
  private var choices: [SparseLayerShape: SparseKernelChoice] = [:]
  private var timedShapes = 0

  /// How many shapes have been timed so far (each at most once).
  var timings: Int { lock.withLock { timedShapes } }

  /// The choice recorded for `shape`, timing it with `measure` the first time it is asked.
  func choice(for shape: SparseLayerShape, measure: () -> SparseKernelChoice) -> SparseKernelChoice {
    lock.withLock {
      if let known = choices[shape] { return known }
      let measured = measure()
      choices[shape] = measured
      timedShapes += 1
      return measured
    }
  }
}
