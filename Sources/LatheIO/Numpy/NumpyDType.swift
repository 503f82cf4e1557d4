/// The element types Lathe reads from `.npy` files: numpy's `descr` strings such as `<f4`,
/// `>i8` or `|b1`, a byte order (`<` little, `>` big, `|` not applicable, `=` native), a kind
/// and a byte size.
public struct NumpyDType: Sendable, Equatable, CustomStringConvertible {
  public enum Kind: Character, Sendable, CaseIterable {
    case float = "f"
    case signed = "i"
    case unsigned = "u"
    case bool = "b"
  }

  public var kind: Kind
  public var byteSize: Int
  public var isBigEndian: Bool

  public init(kind: Kind, byteSize: Int, isBigEndian: Bool = false) {
    self.kind = kind
    self.byteSize = byteSize
    self.isBigEndian = isBigEndian
  }

  public static let float16 = NumpyDType(kind: .float, byteSize: 2)
  public static let float32 = NumpyDType(kind: .float, byteSize: 4)
  public static let float64 = NumpyDType(kind: .float, byteSize: 8)
  public static let int8 = NumpyDType(kind: .signed, byteSize: 1)
  public static let int16 = NumpyDType(kind: .signed, byteSize: 2)
  public static let int32 = NumpyDType(kind: .signed, byteSize: 4)
  public static let int64 = NumpyDType(kind: .signed, byteSize: 8)
  public static let uint8 = NumpyDType(kind: .unsigned, byteSize: 1)
  public static let uint16 = NumpyDType(kind: .unsigned, byteSize: 2)
  public static let uint32 = NumpyDType(kind: .unsigned, byteSize: 4)
  public static let uint64 = NumpyDType(kind: .unsigned, byteSize: 8)
  public static let bool = NumpyDType(kind: .bool, byteSize: 1)

  /// The `descr` strings accepted, for error messages.
  static let supportedNames = ["f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"]

  /// Parses a `descr` such as `<f4`; nil for anything else (structured, object, strings, ...).
  init?(descr: String) {
    var text = Substring(descr)
    var bigEndian = false
    if let first = text.first, "<>|=".contains(first) {
      bigEndian = first == ">"
      text = text.dropFirst()
    }
    guard Self.supportedNames.contains(String(text)), let kindCharacter = text.first,
      let kind = Kind(rawValue: kindCharacter), let size = Int(text.dropFirst())
    else { return nil }
    self.init(kind: kind, byteSize: size, isBigEndian: bigEndian && size > 1)
  }

  /// The `descr` numpy writes for this type: `<f4`, `|u1`, `>i8`.
  public var descr: String {
    (byteSize == 1 ? "|" : isBigEndian ? ">" : "<") + String(kind.rawValue) + String(byteSize)
  }

  public var description: String { descr }

  /// The element at `offset` of `bytes` as a `Float`: integers exactly up to 2²⁴, beyond that
  /// rounded to the nearest `Float`; booleans 0 or 1.
  func value(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Float {
    var raw: UInt64 = 0
    for i in 0..<byteSize {
      let byte = UInt64(bytes[offset + (isBigEndian ? i : byteSize - 1 - i)])
      raw = raw << 8 | byte
    }
    switch kind {
    case .bool: return raw == 0 ? 0 : 1
    case .unsigned: return Float(raw)
    case .signed:
      // Sign-extend from byteSize bytes.
      let shift = UInt64(64 - 8 * byteSize)
      return Float(Int64(bitPattern: raw << shift) >> Int64(shift))
    case .float:
      switch byteSize {
      case 2: return HalfFloat.value(UInt16(raw))
      case 4: return Float(bitPattern: UInt32(raw))
      default: return Float(Double(bitPattern: raw))
      }
    }
  }

  /// The little-endian bytes of `value` in this type, or nil when it has none (a fraction or an
  /// out-of-range value for an integer type, anything but 0 or 1 for bool). Float16 is not
  /// written: nothing in Lathe needs it, and rounding to it by hand is easy to get subtly wrong.
  func bytes(of value: Float) -> [UInt8]? {
    let raw: UInt64
    switch kind {
    case .float:
      switch byteSize {
      case 4: raw = UInt64(value.bitPattern)
      case 8: raw = Double(value).bitPattern
      default: return nil
      }
    case .bool:
      guard value == 0 || value == 1 else { return nil }
      raw = UInt64(value)
    case .unsigned:
      let limit = byteSize == 8 ? 0x1p64 : Double(sign: .plus, exponent: 8 * byteSize, significand: 1)
      guard value >= 0, Double(value) < limit, value == value.rounded() else { return nil }
      raw = UInt64(value)
    case .signed:
      let limit = Double(sign: .plus, exponent: 8 * byteSize - 1, significand: 1)
      guard Double(value) >= -limit, Double(value) < limit, value == value.rounded() else { return nil }
      raw = UInt64(bitPattern: Int64(value))
    }
    return (0..<byteSize).map { UInt8(truncatingIfNeeded: raw >> (8 * UInt64($0))) }
  }
}
