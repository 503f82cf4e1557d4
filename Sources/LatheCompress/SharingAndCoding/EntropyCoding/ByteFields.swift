/// Why a byte-aligned header field could not be read.
public enum ByteFieldError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The bytes ended inside `field`, which starts at byte `offset`.
  case truncated(field: String, offset: Int)
  /// The varint `field` at byte `offset` runs past 9 bytes, so it cannot hold a valid `Int`.
  case varintTooLong(field: String, offset: Int)

  public var description: String {
    switch self {
    case .truncated(let field, let offset):
      return "\(field) at byte \(offset) is cut off: the data ends there"
    case .varintTooLong(let field, let offset):
      return "\(field) at byte \(offset) is a varint longer than 9 bytes"
    }
  }
}

/// Writes the byte-aligned header fields of the entropy-coding formats.
///
/// Integers are unsigned LEB128 varints: 7 bits per byte, least significant group first, the high
/// bit set on every byte but the last. Small counts (the common case) take one byte.
enum ByteFieldWriter {
  static func appendVarint(_ value: Int, to bytes: inout [UInt8]) {
    precondition(value >= 0, "varint: \(value) is negative")
    var rest = UInt64(value)
    while rest >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
      rest >>= 7
    }
    bytes.append(UInt8(rest))
  }
}

/// Reads what `ByteFieldWriter` wrote, throwing on truncation instead of trapping.
struct ByteFieldReader {
  let bytes: [UInt8]
  /// The next byte to read.
  private(set) var offset: Int

  init(_ bytes: [UInt8], offset: Int = 0) {
    self.bytes = bytes
    self.offset = offset
  }

  var remainingCount: Int { bytes.count - offset }

  mutating func byte(_ field: String) throws(ByteFieldError) -> UInt8 {
    guard offset < bytes.count else { throw .truncated(field: field, offset: offset) }
    defer { offset += 1 }
    return bytes[offset]
  }

  /// A varint of at most 9 bytes (63 bits), so the result always fits in a non-negative `Int`.
  mutating func varint(_ field: String) throws(ByteFieldError) -> Int {
    let start = offset
    var value: UInt64 = 0
    for group in 0..<9 {
      guard offset < bytes.count else { throw .truncated(field: field, offset: start) }
      let byte = bytes[offset]
      offset += 1
      value |= UInt64(byte & 0x7F) << (7 * group)
      if byte & 0x80 == 0 { return Int(value) }
    }
    throw .varintTooLong(field: field, offset: start)
  }

  /// The next `count` bytes, checked against what is left before anything is copied.
  mutating func bytes(_ count: Int, _ field: String) throws(ByteFieldError) -> [UInt8] {
    guard count <= remainingCount else { throw .truncated(field: field, offset: offset) }
    defer { offset += count }
    return Array(bytes[offset..<offset + count])
  }
}
