/// A fixed-size heap buffer shared by tensors until one of them writes (copy-on-write).
///
/// Memory is 64-byte aligned so SIMD kernels and the BLAS get aligned rows.
public final class TensorStorage<Element: TensorScalar>: @unchecked Sendable {
  public let pointer: UnsafeMutablePointer<Element>
  public let count: Int

  /// Uninitialised storage; the caller must write every element before reading.
  @usableFromInline init(uninitializedCount count: Int) {
    self.count = count
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: max(count, 1) * MemoryLayout<Element>.stride, alignment: 64)
    pointer = raw.bindMemory(to: Element.self, capacity: max(count, 1))
  }

  convenience init(repeating value: Element, count: Int) {
    self.init(uninitializedCount: count)
    pointer.initialize(repeating: value, count: count)
  }

  func copy() -> TensorStorage {
    let other = TensorStorage(uninitializedCount: count)
    other.pointer.update(from: pointer, count: count)
    return other
  }

  deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}
