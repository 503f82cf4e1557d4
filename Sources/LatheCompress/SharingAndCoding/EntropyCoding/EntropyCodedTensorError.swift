/// Everything that can be wrong with a serialized `EntropyCodedTensor`.
public enum EntropyCodedTensorError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The bytes end inside `field`, which starts at byte `offset`.
  case truncated(field: String, offset: Int)
  /// A varint field is longer than any valid value.
  case malformedField(field: String, offset: Int)
  case unsupportedVersion(UInt8)
  /// The rank is above `EntropyCodedTensor.maxRank`.
  case rankTooLarge(Int)
  /// The dimensions multiply to more elements than an `Int` can count.
  case shapeTooLarge([Int])
  case invalidGapBits(Int)
  case invalidZeroIndex(Int)
  /// Whole bytes remain after the value-index stream.
  case trailingBytes(count: Int)
  /// The Huffman stream of gaps is malformed.
  case gapsStream(HuffmanCodingError)
  /// The Huffman stream of value indices is malformed.
  case valuesStream(HuffmanCodingError)
  /// The streams decode, but their entries do not describe a sparse tensor of this shape.
  case entries(SparseIndexError)

  public var description: String {
    let prefix = "entropy-coded tensor"
    switch self {
    case .truncated(let field, let offset):
      return "\(prefix): truncated: \(field) at byte \(offset) is cut off"
    case .malformedField(let field, let offset):
      return "\(prefix): \(field) at byte \(offset) is a varint longer than 9 bytes"
    case .unsupportedVersion(let version):
      return "\(prefix): format version \(version) is not supported (supported: \(EntropyCodedTensor.formatVersion))"
    case .rankTooLarge(let rank):
      return "\(prefix): rank \(rank) is above the maximum \(EntropyCodedTensor.maxRank)"
    case .shapeTooLarge(let shape):
      return "\(prefix): shape \(shape) has more elements than can be counted"
    case .invalidGapBits(let bits):
      return "\(prefix): gap width \(bits) bits is outside \(SparseIndexEncoding.gapBitsRange)"
    case .invalidZeroIndex(let index):
      return "\(prefix): zero index \(index) does not fit in 16 bits"
    case .trailingBytes(let count):
      return "\(prefix): \(count) trailing bytes after the value-index stream"
    case .gapsStream(let error):
      return "\(prefix): gap stream: \(error)"
    case .valuesStream(let error):
      return "\(prefix): value-index stream: \(error)"
    case .entries(let error):
      return "\(prefix): \(error)"
    }
  }

  init(_ error: ByteFieldError) {
    switch error {
    case .truncated(let field, let offset): self = .truncated(field: field, offset: offset)
    case .varintTooLong(let field, let offset): self = .malformedField(field: field, offset: offset)
    }
  }
}
