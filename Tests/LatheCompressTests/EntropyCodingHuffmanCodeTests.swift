import XCTest

@testable import LatheCompress

final class EntropyCodingHuffmanCodeTests: XCTestCase {
  private func assertValid(
    _ code: CanonicalHuffmanCode, maxLength: Int, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertTrue(EntropyCodingStatistics.isPrefixFree(code), "prefix-free", file: file, line: line)
    XCTAssertLessThanOrEqual(EntropyCodingStatistics.kraftSum(code.lengths), 1, "Kraft sum", file: file, line: line)
    XCTAssertLessThanOrEqual(code.maxLength, maxLength, "length limit", file: file, line: line)
  }

  func testDyadicDistributionGetsLengthsOfMinusLog2P() {
    // p = 1/2, 1/4, 1/8, 1/16, 1/16
    let code = CanonicalHuffmanCode(frequencies: [8, 4, 2, 1, 1], maxLength: 24)
    XCTAssertEqual(code.lengths, [1, 2, 3, 4, 4])
    XCTAssertEqual(code.codewords, [0b0, 0b10, 0b110, 0b1110, 0b1111])
    XCTAssertEqual(EntropyCodingStatistics.kraftSum(code.lengths), 1)
  }

  func testUnusedSymbolsHaveNoCodeAndOneSymbolGetsOneBit() {
    XCTAssertEqual(CanonicalHuffmanCode(frequencies: [0, 0, 0], maxLength: 24).lengths, [0, 0, 0])
    XCTAssertEqual(CanonicalHuffmanCode(frequencies: [], maxLength: 24).lengths, [])
    let single = CanonicalHuffmanCode(frequencies: [0, 0, 5, 0], maxLength: 24)
    XCTAssertEqual(single.lengths, [0, 0, 1, 0])
    XCTAssertEqual(single.codewords[2], 0)
    let two = CanonicalHuffmanCode(frequencies: [0, 1000, 0, 1], maxLength: 24)
    XCTAssertEqual(two.lengths, [0, 1, 0, 1])
  }

  func testCodesAreValidForRandomFrequencies() {
    var random = EntropyCodingRandom(seed: 2)
    for trial in 0..<200 {
      let alphabet = Int.random(in: 2...600, using: &random)
      let frequencies = (0..<alphabet).map { _ in
        Bool.random(using: &random)
          ? 0 : Int.random(in: 1...1_000_000, using: &random) >> Int.random(in: 0...19, using: &random)
      }
      let maxLength = Int.random(in: 10...24, using: &random)
      let code = CanonicalHuffmanCode(frequencies: frequencies, maxLength: maxLength)
      assertValid(code, maxLength: maxLength)
      for (frequency, length) in zip(frequencies, code.lengths) {
        XCTAssertEqual(frequency == 0, length == 0, "trial \(trial): only used symbols have codes")
      }
    }
  }

  func testLengthLimitIsEnforcedOnFibonacciFrequencies() {
    // Fibonacci weights give the deepest possible Huffman tree: 39 symbols, depth 38.
    var fibonacci = [1, 1]
    while fibonacci.count < 39 { fibonacci.append(fibonacci[fibonacci.count - 1] + fibonacci[fibonacci.count - 2]) }
    let unlimited = CanonicalHuffmanCode(frequencies: fibonacci, maxLength: 32)
    XCTAssertEqual(unlimited.maxLength, 32, "clipped only by the limit we asked for")
    for maxLength in [6, 8, 12, 24] {
      let code = CanonicalHuffmanCode(frequencies: fibonacci, maxLength: maxLength)
      assertValid(code, maxLength: maxLength)
      XCTAssertEqual(EntropyCodingStatistics.kraftSum(code.lengths), 1, "the limited code stays complete")
    }
    let tight = CanonicalHuffmanCode(frequencies: [Int](repeating: 1, count: 64), maxLength: 6)
    XCTAssertEqual(Set(tight.lengths), [6])
  }

  func testLengthLimitingCostsLittle() {
    // Geometric frequencies over 40 symbols: the unlimited code goes past 16 bits.
    let frequencies = (0..<40).map { Int(1e12 * pow(0.6, Double($0))) + 1 }
    func cost(_ code: CanonicalHuffmanCode) -> Int {
      zip(frequencies, code.lengths).reduce(0) { $0 + $1.0 * Int($1.1) }
    }
    let unlimited = CanonicalHuffmanCode(frequencies: frequencies, maxLength: 32)
    let limited = CanonicalHuffmanCode(frequencies: frequencies, maxLength: 16)
    XCTAssertGreaterThan(unlimited.maxLength, 16)
    assertValid(limited, maxLength: 16)
    XCTAssertGreaterThanOrEqual(cost(limited), cost(unlimited), "Huffman is optimal without a limit")
    // The JPEG heuristic is not optimal (package-merge would be), but close: 0.15% here.
    XCTAssertLessThan(Double(cost(limited)), Double(cost(unlimited)) * 1.01)
  }

  func testSameFrequenciesAlwaysGiveTheSameCodeAndTiesGoToLowerSymbols() {
    let frequencies = [5, 5, 5, 5, 5, 3, 3, 1]
    let first = CanonicalHuffmanCode(frequencies: frequencies, maxLength: 24)
    for _ in 0..<10 { XCTAssertEqual(CanonicalHuffmanCode(frequencies: frequencies, maxLength: 24), first) }
    // Equal frequencies: lower symbols never get longer codes.
    let uniform = CanonicalHuffmanCode(frequencies: [Int](repeating: 7, count: 5), maxLength: 24)
    XCTAssertEqual(uniform.lengths, [2, 2, 2, 3, 3])
  }

  func testFullAlphabetWithFewUsedSymbols() {
    var frequencies = [Int](repeating: 0, count: 65536)
    for (rank, symbol) in [3, 1000, 40000, 65535].enumerated() { frequencies[symbol] = 100 >> rank }
    let code = CanonicalHuffmanCode(frequencies: frequencies, maxLength: 24)
    XCTAssertEqual(code.lengths.filter { $0 > 0 }.count, 4)
    assertValid(code, maxLength: 24)
    let all = CanonicalHuffmanCode(frequencies: (0..<65536).map { $0 % 7 + 1 }, maxLength: 24)
    assertValid(all, maxLength: 24)
  }

  func testOversubscribedOrTooLongLengthsAreRejected() {
    XCTAssertThrowsError(try CanonicalHuffmanCode(lengths: [1, 1, 1])) { error in
      XCTAssertEqual(error as? HuffmanCodingError, .oversubscribedCodeLengths(kraftSum: 1.5))
    }
    XCTAssertThrowsError(try CanonicalHuffmanCode(lengths: [1, 2, 2, 3], maxAllowedLength: 24))
    XCTAssertThrowsError(try CanonicalHuffmanCode(lengths: [1, 25], maxAllowedLength: 24)) { error in
      XCTAssertEqual(error as? HuffmanCodingError, .codeLengthTooLong(symbol: 1, length: 25, maximum: 24))
    }
    XCTAssertNoThrow(try CanonicalHuffmanCode(lengths: [1, 0, 2]), "incomplete codes are allowed")
  }

  func testDecodingTableFindsShortAndLongCodewords() throws {
    // Lengths 1...20: the long ones fall past the 11-bit table into the per-length search.
    let lengths: [UInt8] = (1...20).map { UInt8($0) } + [20]
    let code = try CanonicalHuffmanCode(lengths: lengths)
    let table = HuffmanDecodingTable(code: code)
    for symbol in lengths.indices {
      var writer = BitWriter()
      writer.write(code.codewords[symbol], count: Int(lengths[symbol]))
      var reader = BitReader(writer.finish())
      let decoded = table.peekSymbol(&reader)
      XCTAssertEqual(decoded?.symbol, UInt16(symbol))
      XCTAssertEqual(decoded?.length, Int(lengths[symbol]))
    }
  }
}
