/// Why a `BitReader` refused a read.
public enum BitReaderError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A read asked for more bits than the stream has left.
  case readPastEnd(requestedBits: Int, remainingBits: Int)

  public var description: String {
    switch self {
    case .readPastEnd(let requested, let remaining):
      return "bit stream ended: asked for \(requested) bits, only \(remaining) left"
    }
  }
}

/// Reads bit fields written by `BitWriter` (most significant bit first) from `[UInt8]`.
///
/// Reading past the end throws `BitReaderError.readPastEnd` instead of trapping, so corrupt or
/// truncated input is always an ordinary error. `peek` is the exception, on purpose: it pads with
/// zero bits past the end so a Huffman decoder can look at a full table index near the end of the
/// stream, then `skip` the codeword's true length, which is checked.
public struct BitReader: Sendable {
  private let bytes: [UInt8]
  private let endBit: Int
  /// The next byte to load into `buffer`; runs past `bytes.count` once padding starts.
  private var nextByte: Int
  /// Buffered bits, left-aligned: the next bit of the stream is bit 63.
  private var buffer: UInt64 = 0
  private var bufferedCount = 0

  /// The number of bits consumed (read or skipped) so far, counted from `startByte`.
  public private(set) var position = 0

  /// A reader over `bytes[startByte...]`.
  ///
  /// - Precondition: `startByte` is in `0...bytes.count`.
  public init(_ bytes: [UInt8], startByte: Int = 0) {
    precondition((0...bytes.count).contains(startByte), "BitReader: start byte \(startByte) is outside the bytes")
    self.bytes = bytes
    self.nextByte = startByte
    self.endBit = (bytes.count - startByte) * 8
  }

  /// The bits not yet consumed, padding of the final byte included.
  public var remainingBits: Int { endBit - position }

  /// The next `count` bits without consuming them, as the low bits of the result; bits past the
  /// end of the stream read as zero.
  ///
  /// - Precondition: `count` is in `0...32`.
  @inline(__always)
  public mutating func peek(_ count: Int) -> UInt32 {
    precondition((0...32).contains(count), "BitReader.peek: count \(count) is outside 0...32")
    if count == 0 { return 0 }
    if bufferedCount < count { refill() }
    return UInt32(truncatingIfNeeded: buffer >> (64 - count))
  }

  /// Consumes `count` bits.
  @inline(__always)
  public mutating func skip(_ count: Int) throws(BitReaderError) {
    precondition((0...32).contains(count), "BitReader.skip: count \(count) is outside 0...32")
    guard count <= remainingBits else {
      throw .readPastEnd(requestedBits: count, remainingBits: remainingBits)
    }
    if bufferedCount < count { refill() }
    buffer <<= count
    bufferedCount -= count
    position += count
  }

  /// Reads and consumes `count` bits, returned as the low bits of the result.
  public mutating func read(_ count: Int) throws(BitReaderError) -> UInt32 {
    let value = peek(count)
    try skip(count)
    return value
  }

  /// Tops the buffer up to at least 57 bits, loading zero bytes past the end.
  @inline(__always)
  private mutating func refill() {
    while bufferedCount <= 56 {
      let byte = nextByte < bytes.count ? bytes[nextByte] : 0
      buffer |= UInt64(byte) << (56 - bufferedCount)
      bufferedCount += 8
      nextByte += 1
    }
  }
}
