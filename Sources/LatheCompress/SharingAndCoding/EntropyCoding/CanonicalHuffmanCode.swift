/// A canonical prefix code: codewords follow from the code lengths alone.
///
/// Codes are assigned in order of (length, symbol index): the first symbol of the shortest length
/// gets all zeros, each next symbol the previous code plus one, shifted left when the length
/// grows (as in DEFLATE, RFC 1951 §3.2.2). So a stream only needs to store the lengths, and the
/// same lengths always give the same codewords.
///
/// The code may be incomplete (Kraft sum below 1, e.g. a single symbol with a 1-bit code); it may
/// not be over-subscribed, since then no prefix code with those lengths exists.
public struct CanonicalHuffmanCode: Equatable, Sendable {
  /// Per symbol, its code length in bits; 0 means the symbol has no codeword.
  public let lengths: [UInt8]
  /// Per symbol, its codeword in the low `lengths[symbol]` bits (0 for unused symbols).
  public let codewords: [UInt32]
  /// The longest code length, 0 for a code without codewords.
  public let maxLength: Int

  /// An optimal code for `frequencies` with no codeword longer than `maxLength` bits (see
  /// `HuffmanCodeLengths` for how ties and the length limit are handled).
  public init(frequencies: [Int], maxLength: Int) {
    let lengths = HuffmanCodeLengths.lengths(frequencies: frequencies, maxLength: maxLength)
    // Valid by construction, so the check cannot fail.
    try! self.init(lengths: lengths, maxAllowedLength: maxLength)
  }

  /// The canonical code with the given lengths, after checking they form a prefix code.
  public init(lengths: [UInt8], maxAllowedLength: Int = 32) throws(HuffmanCodingError) {
    precondition((1...32).contains(maxAllowedLength), "Huffman: maximum length \(maxAllowedLength) is outside 1...32")
    var countPerLength = [Int](repeating: 0, count: maxAllowedLength + 1)
    for (symbol, length) in lengths.enumerated() where length > 0 {
      guard Int(length) <= maxAllowedLength else {
        throw .codeLengthTooLong(symbol: symbol, length: Int(length), maximum: maxAllowedLength)
      }
      countPerLength[Int(length)] += 1
    }
    // Kraft sum in units of 2^-maxAllowedLength; at most 65536 * 2^32, far from overflowing.
    var kraft = 0
    for length in 1...maxAllowedLength { kraft += countPerLength[length] << (maxAllowedLength - length) }
    guard kraft <= 1 << maxAllowedLength else {
      throw .oversubscribedCodeLengths(kraftSum: Double(kraft) / Double(1 << maxAllowedLength))
    }

    // 64-bit arithmetic: with 32-bit codes, the value after the last codeword can be 2^32.
    var nextCode = [UInt64](repeating: 0, count: maxAllowedLength + 1)
    var code: UInt64 = 0
    for length in 1...maxAllowedLength {
      code = (code + UInt64(countPerLength[length - 1])) << 1
      nextCode[length] = code
    }
    // countPerLength[0] counts nothing (unused symbols are skipped above), so the first code is 0.
    var codewords = [UInt32](repeating: 0, count: lengths.count)
    for (symbol, length) in lengths.enumerated() where length > 0 {
      codewords[symbol] = UInt32(nextCode[Int(length)])
      nextCode[Int(length)] += 1
    }
    self.lengths = lengths
    self.codewords = codewords
    self.maxLength = Int(lengths.max() ?? 0)
  }

  /// The shortest code length, 0 for a code without codewords.
  public var minLength: Int { Int(lengths.lazy.filter { $0 > 0 }.min() ?? 0) }
}
