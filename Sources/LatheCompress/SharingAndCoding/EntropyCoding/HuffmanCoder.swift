/// Huffman coding of `UInt16` symbol sequences into self-describing byte streams.
///
/// Stream format, version 1 (integers are unsigned LEB128 varints, see `ByteFieldWriter`):
///
/// | field          | encoding                                                               |
/// |----------------|------------------------------------------------------------------------|
/// | version        | 1 byte, `formatVersion` (1)                                            |
/// | alphabet size  | varint, `1...65536`; symbols are `0..<alphabetSize`                    |
/// | symbol count   | varint                                                                 |
/// | code lengths   | runs of equal lengths, each a varint `(runLength - 1) << 5 \| length`, |
/// |                | `length` in `0...24` (0: symbol unused); the runs cover the alphabet   |
/// | payload        | the canonical codeword of each symbol, MSB first, zero-padded to a byte|
///
/// The codewords follow from the lengths (`CanonicalHuffmanCode`), which is why only lengths are
/// stored; run-length coding keeps that small both for a dense 256-symbol alphabet (a few runs)
/// and for a 65536-symbol alphabet with few symbols used (a run per gap between used symbols).
/// The payload ends exactly at the end of the stream: trailing bytes or non-zero padding bits
/// are errors, so corruption at the end is caught too.
///
/// Encoding is deterministic: the same symbols and alphabet size always give the same bytes.
public enum HuffmanCoder {
  public static let formatVersion: UInt8 = 1
  /// The longest codeword the encoder produces and the decoder accepts.
  public static let maxCodeLength = 24
  public static let maxAlphabetSize = 1 << 16

  /// Encodes `symbols`, each below `alphabetSize`.
  ///
  /// - Precondition: `alphabetSize` is in `1...65536` and every symbol is below it.
  public static func encode(_ symbols: [UInt16], alphabetSize: Int) -> [UInt8] {
    precondition(
      (1...maxAlphabetSize).contains(alphabetSize), "HuffmanCoder: alphabet size \(alphabetSize) is outside 1...65536")
    var frequencies = [Int](repeating: 0, count: alphabetSize)
    for symbol in symbols {
      precondition(Int(symbol) < alphabetSize, "HuffmanCoder: symbol \(symbol) is not below the alphabet size")
      frequencies[Int(symbol)] += 1
    }
    let code = CanonicalHuffmanCode(frequencies: frequencies, maxLength: maxCodeLength)

    var bytes: [UInt8] = [formatVersion]
    ByteFieldWriter.appendVarint(alphabetSize, to: &bytes)
    ByteFieldWriter.appendVarint(symbols.count, to: &bytes)
    appendCodeLengths(code.lengths, to: &bytes)

    let payloadBits = zip(frequencies, code.lengths).reduce(0) { $0 + $1.0 * Int($1.1) }
    var writer = BitWriter(reservingBytes: (payloadBits + 7) / 8)
    for symbol in symbols {
      writer.write(code.codewords[Int(symbol)], count: Int(code.lengths[Int(symbol)]))
    }
    bytes += writer.finish()
    return bytes
  }

  /// Decodes a stream written by `encode`, checking it thoroughly (see `HuffmanCodingError`).
  public static func decode(_ bytes: [UInt8]) throws(HuffmanCodingError) -> [UInt16] {
    var header = ByteFieldReader(bytes)
    // Header reads report a short or malformed header in this stream's own terms.
    func byte(_ field: String) throws(HuffmanCodingError) -> UInt8 {
      do throws(ByteFieldError) { return try header.byte(field) } catch { throw HuffmanCodingError(error) }
    }
    func varint(_ field: String) throws(HuffmanCodingError) -> Int {
      do throws(ByteFieldError) { return try header.varint(field) } catch { throw HuffmanCodingError(error) }
    }

    let version = try byte("format version")
    guard version == formatVersion else { throw .unsupportedVersion(version) }
    let alphabetSize = try varint("alphabet size")
    guard (1...maxAlphabetSize).contains(alphabetSize) else { throw .invalidAlphabetSize(alphabetSize) }
    let symbolCount = try varint("symbol count")
    var lengths: [UInt8] = []
    lengths.reserveCapacity(alphabetSize)
    while lengths.count < alphabetSize {
      let run = try varint("code length run")
      let runLength = run >> 5 + 1
      guard runLength <= alphabetSize - lengths.count else {
        throw .codeLengthsOverrunAlphabet(described: lengths.count + runLength, alphabetSize: alphabetSize)
      }
      lengths += repeatElement(UInt8(run & 31), count: runLength)
    }
    let code = try CanonicalHuffmanCode(lengths: lengths, maxAllowedLength: maxCodeLength)

    let payloadStart = header.offset
    let payloadBits = (bytes.count - payloadStart) * 8
    var symbols: [UInt16] = []
    var reader = BitReader(bytes, startByte: payloadStart)
    if symbolCount > 0 {
      guard code.maxLength > 0 else { throw .noCodewords(symbolCount: symbolCount) }
      // Checked before allocating, so a corrupt count cannot ask for terabytes.
      guard symbolCount <= payloadBits / code.minLength else {
        throw .symbolCountExceedsPayload(
          symbolCount: symbolCount, payloadBits: payloadBits, shortestCodeLength: code.minLength)
      }
      symbols.reserveCapacity(symbolCount)
      let table = HuffmanDecodingTable(code: code)
      for index in 0..<symbolCount {
        guard let (symbol, length) = table.peekSymbol(&reader) else {
          throw .invalidCodeword(symbolIndex: index, bitOffset: reader.position)
        }
        do {
          try reader.skip(length)
        } catch {
          throw .payloadTooShort(decodedSymbols: index, symbolCount: symbolCount)
        }
        symbols.append(symbol)
      }
    }

    let leftOver = reader.remainingBits
    guard leftOver < 8 else { throw .trailingBytes(count: leftOver / 8) }
    guard reader.peek(leftOver) == 0 else { throw .nonZeroPadding }
    return symbols
  }

  /// Run-length codes `lengths` as described in the type comment.
  private static func appendCodeLengths(_ lengths: [UInt8], to bytes: inout [UInt8]) {
    var start = 0
    while start < lengths.count {
      var end = start + 1
      while end < lengths.count && lengths[end] == lengths[start] { end += 1 }
      ByteFieldWriter.appendVarint((end - start - 1) << 5 | Int(lengths[start]), to: &bytes)
      start = end
    }
  }
}
