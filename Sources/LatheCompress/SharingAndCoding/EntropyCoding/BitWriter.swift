/// Packs bit fields into bytes, most significant bit first.
///
/// MSB-first is the natural order for canonical Huffman codes: a codeword read from the top of the
/// stream compares numerically with the codes of its length, which is what makes table-driven
/// decoding (`HuffmanDecodingTable`) a single shift and array look-up. JPEG uses the same order;
/// DEFLATE uses the opposite one.
///
/// The first field written occupies the high bits of byte 0. `finish()` pads the last byte with
/// zero bits.
public struct BitWriter: Sendable {
  private var bytes: [UInt8] = []
  /// Pending bits, right-aligned: the oldest pending bit is bit `pendingCount - 1`.
  private var pending: UInt64 = 0
  private var pendingCount = 0

  /// The number of bits written so far, padding excluded.
  public private(set) var bitCount = 0

  public init(reservingBytes capacity: Int = 0) {
    bytes.reserveCapacity(capacity)
  }

  /// Appends the low `count` bits of `value`, highest of them first.
  ///
  /// - Precondition: `count` is in `0...32` and `value` has no bits set above the low `count`.
  public mutating func write(_ value: UInt32, count: Int) {
    precondition((0...32).contains(count), "BitWriter.write: count \(count) is outside 0...32")
    precondition(count == 32 || value >> count == 0, "BitWriter.write: \(value) does not fit in \(count) bits")
    // At most 7 bits stay pending between calls, so 7 + 32 bits always fit in the 64-bit buffer.
    pending = pending << count | UInt64(value)
    pendingCount += count
    bitCount += count
    while pendingCount >= 8 {
      pendingCount -= 8
      bytes.append(UInt8(truncatingIfNeeded: pending >> pendingCount))
    }
    pending &= (1 << pendingCount) - 1
  }

  /// The bytes written, the last one padded with zero bits.
  public func finish() -> [UInt8] {
    var result = bytes
    if pendingCount > 0 {
      result.append(UInt8(truncatingIfNeeded: pending << (8 - pendingCount)))
    }
    return result
  }
}
