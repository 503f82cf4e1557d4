import LatheCompress
import XCTest

/// Corrupt streams must throw (or, for flipped bits, at worst decode to other symbols): never trap.
final class EntropyCodingMalformedInputTests: XCTestCase {
  private let sample: [UInt16] = [0, 1, 1, 2, 3, 3, 3, 3, 9, 0, 1, 3, 3, 2, 2, 3, 3, 3, 0, 1]

  private func assertThrows(
    _ bytes: [UInt8], _ expected: HuffmanCodingError, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertThrowsError(try HuffmanCoder.decode(bytes), file: file, line: line) { error in
      XCTAssertEqual(error as? HuffmanCodingError, expected, file: file, line: line)
      print("EntropyCoding: rejected as expected: \(error)")
    }
  }

  func testEveryTruncationThrows() {
    let bytes = HuffmanCoder.encode(sample, alphabetSize: 10)
    for cut in 0..<bytes.count {
      XCTAssertThrowsError(try HuffmanCoder.decode(Array(bytes[..<cut])), "cut at \(cut) of \(bytes.count)")
    }
    assertThrows([], .truncatedHeader(field: "format version", offset: 0))
    assertThrows(Array(bytes[..<1]), .truncatedHeader(field: "alphabet size", offset: 1))
  }

  func testEveryTruncationOfLargerStreamsThrows() {
    var random = EntropyCodingRandom(seed: 9)
    for alphabet in [2, 300, 65536] {
      let symbols = (0..<200).map { _ in UInt16(random.geometric(0.2, maximum: alphabet - 1)) }
      let bytes = HuffmanCoder.encode(symbols, alphabetSize: alphabet)
      for cut in 0..<bytes.count { XCTAssertThrowsError(try HuffmanCoder.decode(Array(bytes[..<cut]))) }
    }
  }

  func testFlippedBitsNeverTrap() {
    let bytes = HuffmanCoder.encode(sample, alphabetSize: 10)
    var threw = 0
    for bit in 0..<(bytes.count * 8) {
      var corrupt = bytes
      corrupt[bit / 8] ^= 1 << (bit % 8)
      if (try? HuffmanCoder.decode(corrupt)) == nil { threw += 1 }
    }
    print("EntropyCoding: \(threw) of \(bytes.count * 8) single-bit flips rejected, the rest decode to other symbols")
    XCTAssertGreaterThan(threw, 0)
  }

  func testRandomBytesNeverTrap() {
    var random = EntropyCodingRandom(seed: 10)
    for _ in 0..<2000 {
      var bytes = (0..<Int.random(in: 1...40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
      bytes[0] = HuffmanCoder.formatVersion
      _ = try? HuffmanCoder.decode(bytes)
    }
  }

  func testEachHeaderErrorIsReported() {
    assertThrows([2, 4, 0, 0x60], .unsupportedVersion(2))
    assertThrows([1, 0, 0], .invalidAlphabetSize(0))
    assertThrows([1, 0x81, 0x80, 0x04, 0], .invalidAlphabetSize(65537))
    assertThrows([1, 4, 0], .truncatedHeader(field: "code length run", offset: 3))
    assertThrows([1, 2, 0, 2 << 5], .codeLengthsOverrunAlphabet(described: 3, alphabetSize: 2))
    assertThrows([1] + [UInt8](repeating: 0xFF, count: 10), .malformedHeader(field: "alphabet size", offset: 1))
    // Lengths 1, 1, 1: three 1-bit codes do not fit.
    assertThrows([1, 3, 0, 2 << 5 | 1], .oversubscribedCodeLengths(kraftSum: 1.5))
    assertThrows([1, 2, 0, 25, 0], .codeLengthTooLong(symbol: 0, length: 25, maximum: 24))
    assertThrows([1, 2, 1, 1 << 5, 0x00], .noCodewords(symbolCount: 1))
  }

  func testPayloadErrorsAreReported() {
    // Two symbols with 1-bit codes: 0 -> "0", 1 -> "1".
    let header: [UInt8] = [1, 2, 3, 1 << 5 | 1]
    XCTAssertEqual(try HuffmanCoder.decode(header + [0b1010_0000]), [1, 0, 1])
    assertThrows(header, .symbolCountExceedsPayload(symbolCount: 3, payloadBits: 0, shortestCodeLength: 1))
    assertThrows(
      [1, 2, 0x80, 0x80, 0x80, 0x80, 0x10, 1 << 5 | 1, 0],
      .symbolCountExceedsPayload(symbolCount: 1 << 32, payloadBits: 8, shortestCodeLength: 1))
    assertThrows(header + [0b1010_0000, 0], .trailingBytes(count: 1))
    assertThrows(header + [0b1010_0001], .nonZeroPadding)
    // Lengths 2, 2: "1x" matches no codeword.
    assertThrows([1, 2, 1, 1 << 5 | 2, 0b1000_0000], .invalidCodeword(symbolIndex: 0, bitOffset: 0))
    // Lengths 1, 2, 2 (codes 0, 10, 11) and 8 symbols: "11" four times fills the only byte.
    assertThrows([1, 3, 8, 1, 1 << 5 | 2, 0xFF], .payloadTooShort(decodedSymbols: 4, symbolCount: 8))
  }

  func testErrorMessagesSayWhatIsWrong() {
    XCTAssertEqual(
      HuffmanCodingError.oversubscribedCodeLengths(kraftSum: 1.5).description,
      "Huffman code: the code lengths do not form a prefix code (Kraft sum 1.5 > 1)")
    XCTAssertEqual(
      HuffmanCodingError.payloadTooShort(decodedSymbols: 4, symbolCount: 5).description,
      "Huffman stream: payload too short: it ends after 4 of 5 symbols")
    XCTAssertEqual(
      HuffmanCodingError.truncatedHeader(field: "symbol count", offset: 2).description,
      "Huffman stream: header truncated: symbol count at byte 2 is cut off")
  }
}
