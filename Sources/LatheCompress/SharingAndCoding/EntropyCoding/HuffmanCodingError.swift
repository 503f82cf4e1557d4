/// Everything that can be wrong with a Huffman code or a `HuffmanCoder` stream.
///
/// Decoding never traps on bad input: each way a stream can be malformed maps to one case, and
/// each message says what was found and what the format allows.
public enum HuffmanCodingError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The stream ends inside its header.
  case truncatedHeader(field: String, offset: Int)
  /// A header varint is longer than any valid value.
  case malformedHeader(field: String, offset: Int)
  /// The first byte names a format version this code does not read.
  case unsupportedVersion(UInt8)
  /// The alphabet size is outside `1...65536`.
  case invalidAlphabetSize(Int)
  /// The run-length coded code lengths describe more symbols than the alphabet has.
  case codeLengthsOverrunAlphabet(described: Int, alphabetSize: Int)
  /// A code length is longer than `HuffmanCoder.maxCodeLength`.
  case codeLengthTooLong(symbol: Int, length: Int, maximum: Int)
  /// The code lengths claim more codewords than a prefix code has room for (Kraft sum over 1).
  case oversubscribedCodeLengths(kraftSum: Double)
  /// The stream holds symbols but its code has no codewords.
  case noCodewords(symbolCount: Int)
  /// The header promises more symbols than the payload could hold even at the shortest codeword.
  case symbolCountExceedsPayload(symbolCount: Int, payloadBits: Int, shortestCodeLength: Int)
  /// The payload bits at `bitOffset` match no codeword (possible only with an incomplete code).
  case invalidCodeword(symbolIndex: Int, bitOffset: Int)
  /// The payload ends before all symbols are decoded.
  case payloadTooShort(decodedSymbols: Int, symbolCount: Int)
  /// The padding bits after the last codeword are not all zero.
  case nonZeroPadding
  /// Whole bytes remain after the last codeword and its padding.
  case trailingBytes(count: Int)

  public var description: String {
    switch self {
    case .truncatedHeader(let field, let offset):
      return "Huffman stream: header truncated: \(field) at byte \(offset) is cut off"
    case .malformedHeader(let field, let offset):
      return "Huffman stream: header field \(field) at byte \(offset) is a varint longer than 9 bytes"
    case .unsupportedVersion(let version):
      return "Huffman stream: format version \(version) is not supported (supported: \(HuffmanCoder.formatVersion))"
    case .invalidAlphabetSize(let size):
      return "Huffman stream: alphabet size \(size) is outside 1...65536"
    case .codeLengthsOverrunAlphabet(let described, let alphabetSize):
      return "Huffman stream: code lengths describe \(described) symbols, but the alphabet has \(alphabetSize)"
    case .codeLengthTooLong(let symbol, let length, let maximum):
      return "Huffman code: symbol \(symbol) has a \(length)-bit code; the maximum is \(maximum)"
    case .oversubscribedCodeLengths(let kraftSum):
      return "Huffman code: the code lengths do not form a prefix code (Kraft sum \(kraftSum) > 1)"
    case .noCodewords(let symbolCount):
      return "Huffman stream: \(symbolCount) symbols but the code has no codewords"
    case .symbolCountExceedsPayload(let symbolCount, let payloadBits, let shortest):
      return "Huffman stream: \(symbolCount) symbols cannot fit in \(payloadBits) payload bits "
        + "with codes of at least \(shortest) bits"
    case .invalidCodeword(let symbolIndex, let bitOffset):
      return "Huffman stream: symbol \(symbolIndex) at payload bit \(bitOffset) matches no codeword"
    case .payloadTooShort(let decoded, let symbolCount):
      return "Huffman stream: payload too short: it ends after \(decoded) of \(symbolCount) symbols"
    case .nonZeroPadding:
      return "Huffman stream: the padding bits after the last codeword are not zero"
    case .trailingBytes(let count):
      return "Huffman stream: \(count) trailing bytes after the payload"
    }
  }
}

extension HuffmanCodingError {
  /// The header error for a field that could not be read.
  init(_ error: ByteFieldError) {
    switch error {
    case .truncated(let field, let offset): self = .truncatedHeader(field: field, offset: offset)
    case .varintTooLong(let field, let offset): self = .malformedHeader(field: field, offset: offset)
    }
  }
}
