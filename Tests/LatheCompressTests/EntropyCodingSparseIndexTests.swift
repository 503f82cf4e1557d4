import LatheCompress
import XCTest

final class EntropyCodingSparseIndexTests: XCTestCase {
  private func assertRoundTrip(
    _ positions: [Int], totalCount: Int, gapBits: Int, zeroIndex: UInt16 = 0,
    file: StaticString = #filePath, line: UInt = #line
  ) throws -> (gaps: [UInt16], values: [UInt16]) {
    let values = positions.map { UInt16($0 % 7 + 1) }
    let encoded = SparseIndexEncoding.encode(
      nonzeroPositions: positions, valueIndices: values, totalCount: totalCount, gapBits: gapBits, zeroIndex: zeroIndex)
    XCTAssertEqual(encoded.gaps.count, SparseIndexEncoding.entryCount(nonzeroPositions: positions, gapBits: gapBits))
    XCTAssertTrue(encoded.gaps.allSatisfy { Int($0) < 1 << gapBits }, file: file, line: line)
    let decoded = try SparseIndexEncoding.decode(
      gaps: encoded.gaps, values: encoded.values, totalCount: totalCount, gapBits: gapBits, zeroIndex: zeroIndex)
    XCTAssertEqual(decoded.positions, positions, file: file, line: line)
    XCTAssertEqual(decoded.valueIndices, values, file: file, line: line)
    return encoded
  }

  func testGapsCountTheZerosSkipped() throws {
    let encoded = try assertRoundTrip([0, 1, 5, 7], totalCount: 10, gapBits: 3)
    XCTAssertEqual(encoded.gaps, [0, 0, 3, 1])
    XCTAssertEqual(encoded.values, [1, 2, 6, 1])
  }

  func testFillersCoverLongRunsOfZeros() throws {
    // 3-bit gaps: at most 7 zeros per entry; each filler covers 8 positions (7 zeros + 1 stored).
    let encoded = try assertRoundTrip([7, 8, 25], totalCount: 26, gapBits: 3)
    // 7: gap 7; 8: gap 0; 25: 16 zeros = two fillers (8 + 8 positions), then gap 0.
    XCTAssertEqual(encoded.gaps, [7, 0, 7, 7, 0])
    XCTAssertEqual(encoded.values, [1, 2, 0, 0, 5])
    let edge = try assertRoundTrip([8], totalCount: 9, gapBits: 3)
    XCTAssertEqual(edge.gaps, [7, 0], "8 zeros: one filler, then gap 0")
  }

  func testFirstElementAtZeroAndAtLargePositions() throws {
    _ = try assertRoundTrip([0], totalCount: 1, gapBits: 1)
    let far = try assertRoundTrip([1_000_000], totalCount: 1_000_001, gapBits: 5)
    XCTAssertEqual(far.gaps.count, 1_000_000 / 32 + 1)
    _ = try assertRoundTrip([99_999], totalCount: 100_000, gapBits: 16)
  }

  func testEmptyAndFullyDenseMatrices() throws {
    let empty = try assertRoundTrip([], totalCount: 500, gapBits: 4)
    XCTAssertEqual(empty.gaps, [])
    _ = try assertRoundTrip([], totalCount: 0, gapBits: 4)
    let dense = try assertRoundTrip(Array(0..<300), totalCount: 300, gapBits: 1)
    XCTAssertEqual(dense.gaps, [UInt16](repeating: 0, count: 300))
  }

  func testRandomSparsityPatternsRoundTrip() throws {
    var random = EntropyCodingRandom(seed: 11)
    for _ in 0..<100 {
      let totalCount = Int.random(in: 1...5000, using: &random)
      let density = Double.random(in: 0.001...1, using: &random)
      let positions = (0..<totalCount).filter { _ in Double.random(in: 0..<1, using: &random) < density }
      _ = try assertRoundTrip(
        positions, totalCount: totalCount, gapBits: Int.random(in: 1...12, using: &random), zeroIndex: 0)
    }
  }

  func testZeroIndexNeedNotBeZero() throws {
    let values: [UInt16] = [0, 1, 2]
    let encoded = SparseIndexEncoding.encode(
      nonzeroPositions: [3, 40, 41], valueIndices: values, totalCount: 50, gapBits: 4, zeroIndex: 31)
    XCTAssertEqual(encoded.values, [0, 31, 31, 1, 2])
    let decoded = try SparseIndexEncoding.decode(
      gaps: encoded.gaps, values: encoded.values, totalCount: 50, gapBits: 4, zeroIndex: 31)
    XCTAssertEqual(decoded.positions, [3, 40, 41])
    XCTAssertEqual(decoded.valueIndices, values)
  }

  func testInconsistentEntriesAreRejected() {
    func assertRejects(
      _ gaps: [UInt16], _ values: [UInt16], totalCount: Int = 20, gapBits: Int = 3, _ expected: SparseIndexError,
      line: UInt = #line
    ) {
      XCTAssertThrowsError(
        try SparseIndexEncoding.decode(
          gaps: gaps, values: values, totalCount: totalCount, gapBits: gapBits, zeroIndex: 0),
        line: line
      ) { error in XCTAssertEqual(error as? SparseIndexError, expected, line: line) }
    }
    assertRejects([0, 1], [1], .lengthMismatch(gaps: 2, values: 1))
    assertRejects([8], [1], .gapTooLarge(entry: 0, gap: 8, maximum: 7))
    assertRejects([7, 7, 7], [1, 1, 1], .positionOutOfRange(entry: 2, position: 23, totalCount: 20))
    assertRejects([0], [1], totalCount: 0, .positionOutOfRange(entry: 0, position: 0, totalCount: 0))
    assertRejects([3, 0], [0, 1], .fillerGapNotMaximal(entry: 0, gap: 3, maximum: 7))
    assertRejects([0, 7], [1, 0], .trailingFiller(entry: 1))
    assertRejects([0], [1], gapBits: 0, .invalidGapBits(0))
    assertRejects([0], [1], gapBits: 17, .invalidGapBits(17))
    assertRejects([], [], totalCount: -1, .invalidTotalCount(-1))
  }

  func testBestGapBitsAgreesWithBruteForce() {
    var random = EntropyCodingRandom(seed: 12)
    for trial in 0..<50 {
      let totalCount = Int.random(in: 1...20_000, using: &random)
      let density = pow(10, Double.random(in: -3...0, using: &random))
      let positions = (0..<totalCount).filter { _ in Double.random(in: 0..<1, using: &random) < density }
      let valueBits = Int.random(in: 1...8, using: &random)
      let values = [UInt16](repeating: 1, count: positions.count)
      // Brute force: actually encode at every width and count the bits.
      let costs = (1...12).map { gapBits in
        SparseIndexEncoding.encode(
          nonzeroPositions: positions, valueIndices: values, totalCount: totalCount, gapBits: gapBits, zeroIndex: 0
        ).gaps.count * (gapBits + valueBits)
      }
      let bruteForce = costs.firstIndex(of: costs.min()!)! + 1
      XCTAssertEqual(
        SparseIndexEncoding.bestGapBits(nonzeroPositions: positions, valueBits: valueBits), bruteForce, "trial \(trial)"
      )
    }
  }
}
