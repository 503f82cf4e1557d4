import CKernels
import Foundation

/// A Linear's weight packed once for products with few rows (`lk_sgemm_packed`), and kept
/// while the weight is unchanged.
///
/// OpenBLAS copies the weight into its own panels on every call; at a few rows that copy costs
/// more than the product (MiniLM at 9 tokens spent 43% of its time in it). Inference packs the
/// weight on first use and reuses it, so every run of a model gives the same bits. Passes that
/// only need shapes (`Model.outputShapes`, which `lathe inspect` runs) do not pack
/// (`PackedWeight.skipping`): the packed copy had doubled `inspect`'s memory. Staleness needs
/// no version counter: the cache holds the tensor it packed, so the parameter no longer owns
/// its storage alone, and any write to it (an optimizer step, pruning) copies first (`Tensor`
/// is copy-on-write): a weight whose storage is not the one packed has changed.
public final class PackedWeight: @unchecked Sendable {
  /// Whether a product of `rows` rows runs faster packed on this CPU (`lk_sgemm_packed_pays`:
  /// up to 256 rows where the ISA has a SIMD tile; measured by `lathe bench --only kernels`).
  public static func pays(rows: Int) -> Bool { lk_sgemm_packed_pays(Int32(clamping: rows)) != 0 }

  private var source: Tensor<Float>?
  private var packed: Tensor<Float>?
  private let lock = NSLock()

  public init() {}

  @TaskLocal static var isSkipped = false

  /// Runs `body` with no weight packed: for passes that only need shapes; products in it go
  /// through the BLAS.
  public static func skipping<R>(_ body: () throws -> R) rethrows -> R {
    try $isSkipped.withValue(true, operation: body)
  }

  /// `weight` ([outputs, inputs]) in packed form, packing it if it changed since last time;
  /// nil inside `skipping` (the caller multiplies through the BLAS then).
  public func packed(_ weight: Tensor<Float>) -> Tensor<Float>? {
    if Self.isSkipped { return nil }
    lock.lock()
    defer { lock.unlock() }
    if let source, let packed, source.storage === weight.storage, source.offset == weight.offset,
      source.shape == weight.shape, source.strides == weight.strides
    {
      return packed
    }
    let (n, k) = (weight.shape[0], weight.shape[1])
    let result = Tensor<Float>(shape: [Int(lk_sgemm_packed_floats(Int32(n), Int32(k)))]) { out in
      weight.withUnsafeBufferPointer { w in lk_sgemm_pack(Int32(n), Int32(k), w.baseAddress!, out.baseAddress!) }
    }
    (source, packed) = (weight, result)
    return result
  }

  /// Forgets the packed form (training changes the weight every step: packing it each time
  /// would only cost memory).
  public func release() {
    lock.lock()
    defer { lock.unlock() }
    (source, packed) = (nil, nil)
  }
}

extension Tensor where Scalar == Float {
  /// x·Wᵀ + b for a 2-D x, W given packed (`PackedWeight`) with `outputs` rows.
  public func linearForward(packed: Tensor, outputs: Int, bias: Tensor?) -> Tensor {
    let x = contiguous()
    precondition(x.rank == 2, "linear: input \(x.shape)")
    let (rows, inputs) = (x.shape[0], x.shape[1])
    precondition(packed.count == Int(lk_sgemm_packed_floats(Int32(outputs), Int32(inputs))), "linear: packed size")
    precondition(bias.map { $0.count == outputs } ?? true, "linear: bias for \(outputs) outputs")
    return Tensor(shape: [rows, outputs]) { y in
      guard rows > 0, outputs > 0 else { return }
      x.withUnsafeBufferPointer { xp in
        packed.withUnsafeBufferPointer { wp in
          withOptionalPointer(bias) { b in
            lk_sgemm_packed(
              Int32(rows), Int32(outputs), Int32(inputs), xp.baseAddress!, Int32(inputs), wp.baseAddress!, b,
              y.baseAddress!, Int32(outputs))
          }
        }
      }
    }
  }
}
