import Foundation

/// Reads GGUF's little-endian fields one after another, every read checked against what is
/// left of the file, so a truncated or damaged file is an error naming the field, never a trap.
struct GGUFCursor {
  let bytes: UnsafeRawBufferPointer
  let file: String
  var position = 0

  var remaining: Int { bytes.count - position }

  mutating func integer<T: FixedWidthInteger>(_: T.Type, _ field: @autoclosure () -> String) throws -> T {
    try need(MemoryLayout<T>.size, field())
    let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
    position += MemoryLayout<T>.size
    return value
  }

  /// A u64 count of things each at least `minimumSize` bytes long, refused when the rest of the
  /// file could not hold them (so an absurd count never sizes an allocation).
  mutating func count(_ field: @autoclosure () -> String, minimumSize: Int) throws -> Int {
    let value = try integer(UInt64.self, field())
    let most = remaining / Swift.max(1, minimumSize)
    guard value <= UInt64(most) else {
      throw LatheIOError.invalid(
        file: file, field: field(), expected: "at most \(most) (what the rest of the file can hold)", got: "\(value)")
    }
    return Int(value)
  }

  /// A u64 length and that many bytes; `strict` refuses bytes that are not UTF-8 (names and keys)
  /// where a value's text is read with replacement characters.
  mutating func string(_ field: @autoclosure () -> String, strict: Bool) throws -> String {
    let length = try count(field() + " length", minimumSize: 1)
    let raw = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)])
    position += length
    if !strict { return String(decoding: raw, as: UTF8.self) }
    guard let text = String(validating: raw, as: UTF8.self) else {
      throw LatheIOError.invalid(file: file, field: field(), expected: "UTF-8 text", got: "bytes that are not UTF-8")
    }
    return text
  }

  func need(_ count: Int, _ field: @autoclosure () -> String) throws {
    guard count <= remaining else {
      throw LatheIOError.invalid(
        file: file, field: field(), expected: "\(count) bytes",
        got: "\(remaining) left at byte \(position) (the file is truncated)")
    }
  }
}
