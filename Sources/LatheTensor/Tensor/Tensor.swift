/// An n-dimensional array: a shape, strides into shared storage, and an offset.
///
/// `Tensor` is a value type. Copies share storage until one of them is mutated, so passing
/// tensors around costs nothing. Views (transpose, slices) share storage too and carry their
/// own strides; `contiguous()` materialises them when a kernel needs a dense row-major buffer.
public struct Tensor<Scalar: TensorScalar>: @unchecked Sendable {
  public private(set) var shape: [Int]
  public private(set) var strides: [Int]
  @usableFromInline var storage: TensorStorage<Scalar>
  @usableFromInline var offset: Int

  /// A dense, row-major tensor over fresh storage whose elements are not yet written.
  @usableFromInline init(uninitializedShape shape: [Int]) {
    self.shape = shape
    self.strides = Tensor.rowMajorStrides(shape)
    self.storage = TensorStorage(uninitializedCount: shape.reduce(1, *))
    self.offset = 0
  }

  init(shape: [Int], strides: [Int], storage: TensorStorage<Scalar>, offset: Int) {
    self.shape = shape
    self.strides = strides
    self.storage = storage
    self.offset = offset
  }

  /// A tensor of the given shape with every element set to `value`.
  public init(repeating value: Scalar, shape: [Int]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
    self.shape = shape
    self.strides = Tensor.rowMajorStrides(shape)
    self.storage = TensorStorage(repeating: value, count: shape.reduce(1, *))
    self.offset = 0
  }

  public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: .zero, shape: shape) }

  /// A tensor holding `scalars` in row-major order.
  public init(shape: [Int], scalars: [Scalar]) {
    let count = shape.reduce(1, *)
    precondition(count == scalars.count, "shape \(shape) needs \(count) scalars, got \(scalars.count)")
    self.init(uninitializedShape: shape)
    scalars.withUnsafeBufferPointer { storage.pointer.initialize(from: $0.baseAddress!, count: count) }
  }

  /// A tensor of shape `shape` whose elements are written by `body` into a dense buffer.
  public init(shape: [Int], initializingWith body: (UnsafeMutableBufferPointer<Scalar>) -> Void) {
    self.init(uninitializedShape: shape)
    body(UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count))
  }

  /// A rank-0 tensor.
  public init(_ scalar: Scalar) { self.init(shape: [], scalars: [scalar]) }

  public var rank: Int { shape.count }
  public var count: Int { shape.reduce(1, *) }
  public var dtype: DType { Scalar.dtype }

  public static func rowMajorStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var running = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
      strides[axis] = running
      running *= shape[axis]
    }
    return strides
  }

  /// True when the elements lie in row-major order with no gaps, so a flat loop visits them.
  public var isContiguous: Bool {
    var expected = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] != 1 {
      if strides[axis] != expected { return false }
      expected *= shape[axis]
    }
    return true
  }

  /// This tensor as a dense row-major tensor (itself when it already is one).
  public func contiguous() -> Tensor {
    if isContiguous { return self }
    let result = Tensor(uninitializedShape: shape)
    let dst = result.storage.pointer
    var i = 0
    forEachOffset { src in
      dst[i] = storage.pointer[src]
      i += 1
    }
    return result
  }

  /// Calls `body` with the storage offset of every element, in row-major order.
  func forEachOffset(_ body: (Int) -> Void) {
    let n = count
    if n == 0 { return }
    if rank == 0 {
      body(offset)
      return
    }
    var index = [Int](repeating: 0, count: rank)
    var position = offset
    let last = rank - 1
    for _ in 0..<n {
      body(position)
      var axis = last
      while axis >= 0 {
        index[axis] += 1
        position += strides[axis]
        if index[axis] < shape[axis] { break }
        position -= strides[axis] * shape[axis]
        index[axis] = 0
        axis -= 1
      }
    }
  }

  /// Reads the dense elements. Views are materialised first.
  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
    let dense = contiguous()
    return try body(UnsafeBufferPointer(start: dense.storage.pointer + dense.offset, count: dense.count))
  }

  /// Writes the elements in place, copying the storage first if anyone else shares it.
  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R
  ) rethrows -> R {
    if !isContiguous || offset != 0 || storage.count != count {
      self = contiguousCopy()
    } else if !isKnownUniquelyReferenced(&storage) {
      storage = storage.copy()
    }
    return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
  }

  /// A dense copy with storage of its own.
  func contiguousCopy() -> Tensor {
    let dense = contiguous()
    if dense.storage !== storage { return dense }
    let result = Tensor(uninitializedShape: shape)
    result.storage.pointer.update(from: storage.pointer + offset, count: count)
    return result
  }

  /// The elements in row-major order.
  public var scalars: [Scalar] { withUnsafeBufferPointer { Array($0) } }

  /// The single element of a one-element tensor.
  public var scalar: Scalar {
    precondition(count == 1, "scalar of a tensor with \(count) elements")
    return storage.pointer[offset]
  }

  /// Element access by full index (slow; for tests and small tables).
  public subscript(index: [Int]) -> Scalar {
    get { storage.pointer[storageOffset(index)] }
    set {
      withUnsafeMutableBufferPointer { _ in }
      storage.pointer[storageOffset(index)] = newValue
    }
  }

  public subscript(index: Int...) -> Scalar {
    get { self[index] }
    set { self[index] = newValue }
  }

  func storageOffset(_ index: [Int]) -> Int {
    precondition(index.count == rank, "index \(index) for a tensor of shape \(shape)")
    var position = offset
    for axis in 0..<rank {
      precondition(index[axis] >= 0 && index[axis] < shape[axis], "index \(index) out of shape \(shape)")
      position += index[axis] * strides[axis]
    }
    return position
  }

  /// Each element converted by `transform`, into a dense tensor of another element type.
  public func map<Other: TensorScalar>(_ transform: (Scalar) -> Other) -> Tensor<Other> {
    withUnsafeBufferPointer { src in
      Tensor<Other>(shape: shape) { dst in
        for i in 0..<src.count { dst[i] = transform(src[i]) }
      }
    }
  }
}

extension Tensor: Equatable {
  public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
    lhs.shape == rhs.shape && lhs.scalars == rhs.scalars
  }
}

extension Tensor: CustomStringConvertible {
  public var description: String {
    let values = scalars
    let shown = values.prefix(8).map { "\($0)" }.joined(separator: ", ")
    return "Tensor<\(Scalar.self)>\(shape)[\(shown)\(values.count > 8 ? ", …" : "")]"
  }
}

/// The elements of `tensor` in place, or nil when there is none: for kernels that take an
/// optional pointer, such as a bias. (`scalars` would copy them on every call, which at batch 1
/// costs as much as a small layer.)
public func withOptionalPointer<R>(_ tensor: Tensor<Float>?, _ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R
{
  guard let tensor else { return try body(nil) }
  return try tensor.withUnsafeBufferPointer { try body($0.baseAddress) }
}
