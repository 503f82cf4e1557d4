/// Decodes canonical Huffman codewords with one table look-up for short codes.
///
/// The primary table is indexed by the next `indexBits` bits of the stream (up to 11, so 2048
/// entries, 8 KiB): every index that starts with a codeword of at most `indexBits` bits holds that
/// codeword's symbol and length. Longer codewords, rare by construction, fall back to the
/// canonical per-length search: the top `length` bits are a codeword of that length exactly when
/// they lie in `firstCode[length] ..< firstCode[length] + count[length]`.
struct HuffmanDecodingTable {
  static let maxIndexBits = 11

  let indexBits: Int
  let maxLength: Int
  /// `symbol << 8 | length`; 0 where the index starts with a longer codeword or with none.
  private let table: [UInt32]
  private let firstCode: [UInt32]
  private let countPerLength: [UInt32]
  /// Where the symbols of each length start in `sortedSymbols`.
  private let firstIndex: [Int]
  /// Used symbols ordered by (length, symbol): the canonical code order.
  private let sortedSymbols: [UInt16]

  /// - Precondition: `code` has at least one codeword, all of at most 32 bits.
  init(code: CanonicalHuffmanCode) {
    precondition(code.maxLength >= 1, "HuffmanDecodingTable: the code has no codewords")
    maxLength = code.maxLength
    indexBits = min(maxLength, Self.maxIndexBits)

    var counts = [UInt32](repeating: 0, count: maxLength + 1)
    for length in code.lengths where length > 0 { counts[Int(length)] += 1 }
    var firstIndex = [Int](repeating: 0, count: maxLength + 2)
    for length in 1...maxLength { firstIndex[length + 1] = firstIndex[length] + Int(counts[length]) }
    var sortedSymbols = [UInt16](repeating: 0, count: firstIndex[maxLength + 1])
    var fill = firstIndex
    for (symbol, length) in code.lengths.enumerated() where length > 0 {
      sortedSymbols[fill[Int(length)]] = UInt16(symbol)
      fill[Int(length)] += 1
    }
    var firstCode = [UInt32](repeating: 0, count: maxLength + 1)
    for length in 1...maxLength {
      // Same recurrence as CanonicalHuffmanCode; the first code of each length is below 2^length.
      firstCode[length] = UInt32(truncatingIfNeeded: (UInt64(firstCode[length - 1]) + UInt64(counts[length - 1])) << 1)
    }

    var table = [UInt32](repeating: 0, count: 1 << indexBits)
    for (symbol, length) in code.lengths.enumerated() where length > 0 && Int(length) <= indexBits {
      let spare = indexBits - Int(length)
      let start = Int(code.codewords[symbol]) << spare
      let entry = UInt32(symbol) << 8 | UInt32(length)
      for index in start..<start + (1 << spare) { table[index] = entry }
    }

    self.table = table
    self.firstCode = firstCode
    self.countPerLength = counts
    self.firstIndex = firstIndex
    self.sortedSymbols = sortedSymbols
  }

  /// The symbol whose codeword starts at the reader's position and the codeword's length, without
  /// consuming anything; nil if the bits there match no codeword.
  @inline(__always)
  func peekSymbol(_ reader: inout BitReader) -> (symbol: UInt16, length: Int)? {
    let entry = table[Int(reader.peek(indexBits))]
    if entry != 0 { return (UInt16(truncatingIfNeeded: entry >> 8), Int(entry & 0xFF)) }
    return peekLongSymbol(&reader)
  }

  private func peekLongSymbol(_ reader: inout BitReader) -> (symbol: UInt16, length: Int)? {
    if indexBits == maxLength { return nil }
    let window = reader.peek(maxLength)
    for length in (indexBits + 1)...maxLength {
      let offset = (window >> (maxLength - length)) &- firstCode[length]
      if offset < countPerLength[length] {
        return (sortedSymbols[firstIndex[length] + Int(offset)], length)
      }
    }
    return nil
  }
}
