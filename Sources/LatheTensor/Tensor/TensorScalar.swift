/// The element types a tensor can hold. Float32 carries training and fp32 inference; the
/// integer types carry quantized weights, activations and accumulators.
public enum DType: String, Sendable, Codable, CaseIterable {
  case float32 = "F32"
  case int8 = "I8"
  case uint8 = "U8"
  case int32 = "I32"

  /// Bytes per element, as stored in memory and in files.
  public var byteSize: Int {
    switch self {
    case .float32, .int32: return 4
    case .int8, .uint8: return 1
    }
  }

  /// Bits per element, for size reports.
  public var bits: Int { byteSize * 8 }
}

/// A scalar type that can be the element of a `Tensor`.
public protocol TensorScalar: Numeric, Comparable, Sendable {
  static var dtype: DType { get }
}

extension Float: TensorScalar { public static var dtype: DType { .float32 } }
extension Int8: TensorScalar { public static var dtype: DType { .int8 } }
extension UInt8: TensorScalar { public static var dtype: DType { .uint8 } }
extension Int32: TensorScalar { public static var dtype: DType { .int32 } }
