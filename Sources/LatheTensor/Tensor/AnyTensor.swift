/// A tensor of any element type, for code that moves tensors without computing on them:
/// files, model state, quantized weights.
public enum AnyTensor: Sendable, Equatable {
  case float32(Tensor<Float>)
  case int8(Tensor<Int8>)
  case uint8(Tensor<UInt8>)
  case int32(Tensor<Int32>)

  public var dtype: DType {
    switch self {
    case .float32: return .float32
    case .int8: return .int8
    case .uint8: return .uint8
    case .int32: return .int32
    }
  }

  public var shape: [Int] {
    switch self {
    case .float32(let t): return t.shape
    case .int8(let t): return t.shape
    case .uint8(let t): return t.shape
    case .int32(let t): return t.shape
    }
  }

  public var count: Int { shape.reduce(1, *) }
  public var byteCount: Int { count * dtype.byteSize }

  /// The fp32 tensor, or nil for integer tensors.
  public var float32: Tensor<Float>? {
    if case .float32(let t) = self { return t }
    return nil
  }

  /// The elements as little-endian bytes, row-major (the safetensors layout).
  public var littleEndianBytes: [UInt8] {
    func bytes<T>(_ t: Tensor<T>) -> [UInt8] {
      t.withUnsafeBufferPointer { Array(UnsafeRawBufferPointer($0)) }
    }
    switch self {
    case .float32(let t): return bytes(t)
    case .int8(let t): return bytes(t)
    case .uint8(let t): return bytes(t)
    case .int32(let t): return bytes(t)
    }
  }

  /// A tensor rebuilt from little-endian bytes; nil when the byte count does not match.
  public init?(dtype: DType, shape: [Int], littleEndianBytes bytes: UnsafeRawBufferPointer) {
    let count = shape.reduce(1, *)
    guard shape.allSatisfy({ $0 >= 0 }), bytes.count == count * dtype.byteSize else { return nil }
    func make<T: TensorScalar>(_: T.Type) -> Tensor<T> {
      Tensor<T>(shape: shape) { dst in
        if count > 0 { UnsafeMutableRawBufferPointer(dst).copyMemory(from: bytes) }
      }
    }
    switch dtype {
    case .float32: self = .float32(make(Float.self))
    case .int8: self = .int8(make(Int8.self))
    case .uint8: self = .uint8(make(UInt8.self))
    case .int32: self = .int32(make(Int32.self))
    }
  }
}
