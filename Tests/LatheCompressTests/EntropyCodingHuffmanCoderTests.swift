import Foundation
import LatheCompress
import XCTest

final class EntropyCodingHuffmanCoderTests: XCTestCase {
  @discardableResult
  private func assertRoundTrip(
    _ symbols: [UInt16], alphabetSize: Int, file: StaticString = #filePath, line: UInt = #line
  ) throws -> [UInt8] {
    let bytes = HuffmanCoder.encode(symbols, alphabetSize: alphabetSize)
    XCTAssertEqual(try HuffmanCoder.decode(bytes), symbols, file: file, line: line)
    XCTAssertEqual(
      HuffmanCoder.encode(symbols, alphabetSize: alphabetSize), bytes, "deterministic", file: file, line: line)
    return bytes
  }

  func testEmptyInput() throws {
    let bytes = try assertRoundTrip([], alphabetSize: 256)
    XCTAssertEqual(bytes, [1, 0x80, 0x02, 0, 0xE0, 0x3F], "version, alphabet 256, count 0, one run of 256 zeros")
  }

  func testOneSymbolUsesOneBitEach() throws {
    XCTAssertEqual(try assertRoundTrip([7], alphabetSize: 8).count, 1 + 1 + 1 + 3 + 1)
    let bytes = try assertRoundTrip([UInt16](repeating: 3, count: 1000), alphabetSize: 4)
    XCTAssertEqual(bytes.count, 1 + 1 + 2 + 2 + 125)
  }

  func testTwoSymbols() throws {
    try assertRoundTrip([0, 1, 1, 0, 1], alphabetSize: 2)
    try assertRoundTrip([1, 0], alphabetSize: 65536)
  }

  func testUniform256() throws {
    var random = EntropyCodingRandom(seed: 3)
    let symbols = (0..<100_000).map { _ in UInt16.random(in: 0...255, using: &random) }
    let bytes = try assertRoundTrip(symbols, alphabetSize: 256)
    XCTAssertLessThan(Double(bytes.count), 100_000 * 1.002 + 64, "about one byte per symbol")
  }

  func testSkewedDistributions() throws {
    var random = EntropyCodingRandom(seed: 4)
    for p in [0.05, 0.3, 0.7, 0.95] {
      let symbols = (0..<20_000).map { _ in UInt16(random.geometric(p, maximum: 999)) }
      try assertRoundTrip(symbols, alphabetSize: 1000)
    }
  }

  func testFullAlphabetWithFewUsedSymbols() throws {
    var random = EntropyCodingRandom(seed: 5)
    let used: [UInt16] = [0, 17, 4096, 40_000, 65535]
    let symbols = (0..<10_000).map { _ in used[random.geometric(0.5, maximum: used.count - 1)] }
    let bytes = try assertRoundTrip(symbols, alphabetSize: 65536)
    XCTAssertLessThan(bytes.count - payloadBytes(symbols, alphabetSize: 65536), 40, "a small header")
  }

  func testLongCodesBeyondTheLookupTable() throws {
    // Geometric with ratio 1/2 over 30 symbols: codes up to the 24-bit limit.
    var symbols: [UInt16] = []
    for symbol in 0..<30 { symbols += [UInt16](repeating: UInt16(symbol), count: max(1, (1 << 20) >> symbol)) }
    var random = EntropyCodingRandom(seed: 6)
    symbols.shuffle(using: &random)
    try assertRoundTrip(symbols, alphabetSize: 30)
  }

  func testSizeIsNearTheEntropyBound() throws {
    var random = EntropyCodingRandom(seed: 7)
    // Quantized Gaussian weights over 32 levels, and geometric index gaps: the two streams of
    // Deep Compression's third stage.
    let weights = (0..<500_000).map { _ in UInt16(min(31, max(0, Int((random.normal() * 5 + 16).rounded(.down))))) }
    let gaps = (0..<500_000).map { _ in UInt16(random.geometric(0.1, maximum: 255)) }
    for (name, symbols, alphabet) in [("gaussian-32", weights, 32), ("geometric-gaps", gaps, 256)] {
      let entropy = EntropyCodingStatistics.entropy(symbols)
      let bytes = HuffmanCoder.encode(symbols, alphabetSize: alphabet)
      let header = bytes.count - payloadBytes(symbols, alphabetSize: alphabet)
      let bitsPerSymbol = Double(bytes.count * 8) / Double(symbols.count)
      print(
        "EntropyCoding: \(name): entropy \(String(format: "%.4f", entropy)) bits/symbol, Huffman "
          + "\(String(format: "%.4f", bitsPerSymbol)) bits/symbol including a \(header)-byte header")
      XCTAssertLessThanOrEqual(Double(bytes.count * 8), entropy * Double(symbols.count) * 1.01 + Double(header * 8) + 8)
      XCTAssertEqual(try HuffmanCoder.decode(bytes), symbols)
    }
  }

  func testMillionSymbolsDecodeQuickly() throws {
    var random = EntropyCodingRandom(seed: 8)
    let symbols = (0..<1_000_000).map { _ in UInt16(min(31, max(0, Int((random.normal() * 4 + 16).rounded(.down))))) }
    let encodeStart = Date()
    let bytes = HuffmanCoder.encode(symbols, alphabetSize: 32)
    let encodeSeconds = Date().timeIntervalSince(encodeStart)
    let decodeStart = Date()
    let decoded = try HuffmanCoder.decode(bytes)
    let decodeSeconds = Date().timeIntervalSince(decodeStart)
    XCTAssertEqual(decoded, symbols)
    print(
      "EntropyCoding: 1M symbols: encode \(String(format: "%.3f", encodeSeconds)) s, "
        + "decode \(String(format: "%.3f", decodeSeconds)) s, \(bytes.count) bytes")
    #if DEBUG
      XCTAssertLessThan(decodeSeconds, 10, "debug build; release is far faster")
    #else
      XCTAssertLessThan(decodeSeconds, 0.5)
    #endif
  }

  /// The payload size implied by the code the encoder builds.
  private func payloadBytes(_ symbols: [UInt16], alphabetSize: Int) -> Int {
    var frequencies = [Int](repeating: 0, count: alphabetSize)
    for symbol in symbols { frequencies[Int(symbol)] += 1 }
    let code = CanonicalHuffmanCode(frequencies: frequencies, maxLength: HuffmanCoder.maxCodeLength)
    return (zip(frequencies, code.lengths).reduce(0) { $0 + $1.0 * Int($1.1) } + 7) / 8
  }
}
