/// The type tag of a GGUF metadata value, as the file stores it (a little-endian u32).
public enum GGUFValueType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
  case uint8 = 0
  case int8 = 1
  case uint16 = 2
  case int16 = 3
  case uint32 = 4
  case int32 = 5
  case float32 = 6
  case bool = 7
  case string = 8
  case array = 9
  case uint64 = 10
  case int64 = 11
  case float64 = 12

  /// Bytes of one value; strings and arrays are variable (their smallest encoding is used to
  /// bound counts against what is left of a file).
  var fixedSize: Int? {
    switch self {
    case .uint8, .int8, .bool: return 1
    case .uint16, .int16: return 2
    case .uint32, .int32, .float32: return 4
    case .uint64, .int64, .float64: return 8
    case .string, .array: return nil
    }
  }

  /// The fewest bytes a value of this type takes: an empty string is its 8-byte length, an
  /// empty array its 4-byte type and 8-byte count.
  var minimumSize: Int { fixedSize ?? (self == .string ? 8 : 12) }

  public var description: String {
    let names = [
      "UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL", "STRING", "ARRAY", "UINT64", "INT64",
      "FLOAT64",
    ]
    return names[Int(rawValue)]
  }
}

/// One metadata value of a GGUF file. Arrays hold values of one type (`elementType`); GGUF
/// allows no arrays of arrays in practice (ggml's reader refuses them), and neither does Lathe.
public enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
  case uint8(UInt8)
  case int8(Int8)
  case uint16(UInt16)
  case int16(Int16)
  case uint32(UInt32)
  case int32(Int32)
  case uint64(UInt64)
  case int64(Int64)
  case float32(Float)
  case float64(Double)
  case bool(Bool)
  case string(String)
  case array(GGUFValueType, [GGUFValue])

  public static func strings(_ values: [String]) -> GGUFValue { .array(.string, values.map { .string($0) }) }
  public static func int32s(_ values: [Int32]) -> GGUFValue { .array(.int32, values.map { .int32($0) }) }
  public static func float32s(_ values: [Float]) -> GGUFValue { .array(.float32, values.map { .float32($0) }) }

  public var type: GGUFValueType {
    switch self {
    case .uint8: return .uint8
    case .int8: return .int8
    case .uint16: return .uint16
    case .int16: return .int16
    case .uint32: return .uint32
    case .int32: return .int32
    case .uint64: return .uint64
    case .int64: return .int64
    case .float32: return .float32
    case .float64: return .float64
    case .bool: return .bool
    case .string: return .string
    case .array: return .array
    }
  }

  /// The value as an integer when it is one of the integer types (for `general.alignment` and
  /// `general.file_type`, which writers store as u32 or i32).
  public var integer: Int? {
    switch self {
    case .uint8(let v): return Int(v)
    case .int8(let v): return Int(v)
    case .uint16(let v): return Int(v)
    case .int16(let v): return Int(v)
    case .uint32(let v): return Int(v)
    case .int32(let v): return Int(v)
    case .uint64(let v): return v <= UInt64(Int.max) ? Int(v) : nil
    case .int64(let v): return Int(v)
    default: return nil
    }
  }

  /// A short text for listings: scalars as they are, strings quoted (escaped to one line),
  /// arrays as their type and count with the first few elements.
  public var description: String {
    switch self {
    case .uint8(let v): return "\(v)"
    case .int8(let v): return "\(v)"
    case .uint16(let v): return "\(v)"
    case .int16(let v): return "\(v)"
    case .uint32(let v): return "\(v)"
    case .int32(let v): return "\(v)"
    case .uint64(let v): return "\(v)"
    case .int64(let v): return "\(v)"
    case .float32(let v): return "\(v)"
    case .float64(let v): return "\(v)"
    case .bool(let v): return "\(v)"
    case .string(let v): return "\"" + OneLine.escaping(v.count > 80 ? String(v.prefix(80)) + "…" : v) + "\""
    case .array(let type, let values):
      let shown = values.prefix(4).map(\.description).joined(separator: ", ")
      return "[\(values.count) \(type)" + (values.isEmpty ? "" : ": \(shown)" + (values.count > 4 ? ", …" : "")) + "]"
    }
  }
}
