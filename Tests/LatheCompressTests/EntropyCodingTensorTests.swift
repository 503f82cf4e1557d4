import Foundation
import LatheCompress
import XCTest

final class EntropyCodingTensorTests: XCTestCase {
  func testSerializedTensorRoundTrips() throws {
    var random = EntropyCodingRandom(seed: 13)
    let shape = [20, 3, 5, 5]
    let dense = (0..<1500).map { _ in
      Double.random(in: 0..<1, using: &random) < 0.3 ? UInt16.random(in: 1...15, using: &random) : 0
    }
    let tensor = EntropyCodedTensor(shape: shape, denseIndices: dense, valueAlphabetSize: 16, gapBits: 4, zeroIndex: 0)
    let bytes = tensor.serialize()
    XCTAssertEqual(bytes.first, EntropyCodedTensor.formatVersion)
    let loaded = try EntropyCodedTensor(bytes: bytes)
    XCTAssertEqual(loaded, tensor)
    XCTAssertEqual(loaded.shape, shape)
    XCTAssertEqual(loaded.elementCount, 1500)
    XCTAssertEqual(try loaded.decodeDenseIndices(), dense)
    let (positions, indices) = try loaded.decodePositionsAndIndices()
    XCTAssertEqual(positions, dense.indices.filter { dense[$0] != 0 })
    XCTAssertEqual(indices, positions.map { dense[$0] })
    XCTAssertEqual(loaded.serialize(), bytes)
  }

  func testEmptyAndScalarTensors() throws {
    for shape in [[0], [], [4, 0, 2], [1000]] {
      let count = shape.reduce(1, *)
      let tensor = EntropyCodedTensor(
        shape: shape, denseIndices: [UInt16](repeating: 5, count: count), valueAlphabetSize: 8, gapBits: 2, zeroIndex: 5
      )
      let loaded = try EntropyCodedTensor(bytes: tensor.serialize())
      XCTAssertEqual(loaded.shape, shape)
      XCTAssertEqual(try loaded.decodeDenseIndices(), [UInt16](repeating: 5, count: count))
    }
    let scalar = EntropyCodedTensor(shape: [], denseIndices: [3], valueAlphabetSize: 4, gapBits: 1, zeroIndex: 0)
    XCTAssertEqual(try EntropyCodedTensor(bytes: scalar.serialize()).decodeDenseIndices(), [3])
  }

  func testCorruptContainersThrow() {
    let tensor = EntropyCodedTensor(
      shape: [8, 8], nonzeroPositions: [1, 9, 40, 63], valueIndices: [1, 2, 3, 1], valueAlphabetSize: 4, gapBits: 3,
      zeroIndex: 0)
    let bytes = tensor.serialize()
    for cut in 0..<bytes.count {
      XCTAssertThrowsError(
        try EntropyCodedTensor(bytes: Array(bytes[..<cut])).decodePositionsAndIndices(), "cut \(cut)")
    }
    for bit in 0..<(bytes.count * 8) {
      var corrupt = bytes
      corrupt[bit / 8] ^= 1 << (bit % 8)
      _ = try? EntropyCodedTensor(bytes: corrupt).decodeDenseIndices()
    }
    func assertRejects(_ bytes: [UInt8], _ expected: EntropyCodedTensorError, line: UInt = #line) {
      XCTAssertThrowsError(try EntropyCodedTensor(bytes: bytes), line: line) { error in
        XCTAssertEqual(error as? EntropyCodedTensorError, expected, line: line)
      }
    }
    assertRejects([9], .unsupportedVersion(9))
    assertRejects([1, 17], .rankTooLarge(17))
    assertRejects(
      [1, 2, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
      .shapeTooLarge([(1 << 32) - 1, (1 << 32) - 1]))
    assertRejects([1, 1, 4, 0], .invalidGapBits(0))
    assertRejects([1, 1, 4, 3, 0x80, 0x80, 0x04], .invalidZeroIndex(65536))
    assertRejects([1, 1, 4, 3, 0, 5, 1], .truncated(field: "gap stream", offset: 6))
    assertRejects(bytes + [0], .trailingBytes(count: 1))
    // Both streams well formed but of different lengths.
    let mismatched =
      [1, 1, 4, 3, 0] + lengthPrefixed(HuffmanCoder.encode([0, 1], alphabetSize: 8))
      + lengthPrefixed(HuffmanCoder.encode([1], alphabetSize: 4))
    XCTAssertThrowsError(try EntropyCodedTensor(bytes: mismatched).decodePositionsAndIndices()) { error in
      XCTAssertEqual(error as? EntropyCodedTensorError, .entries(.lengthMismatch(gaps: 2, values: 1)))
    }
    let badGaps = [1, 1, 4, 3, 0, 1, 1] + lengthPrefixed(HuffmanCoder.encode([], alphabetSize: 4))
    XCTAssertThrowsError(try EntropyCodedTensor(bytes: badGaps).decodePositionsAndIndices()) { error in
      XCTAssertEqual(
        error as? EntropyCodedTensorError, .gapsStream(.truncatedHeader(field: "alphabet size", offset: 1)))
      print("EntropyCoding: rejected as expected: \(error)")
    }
  }

  private func lengthPrefixed(_ stream: [UInt8]) -> [UInt8] { [UInt8(stream.count)] + stream }

  /// A LeNet-300-100 first layer: 300 × 784 weights, 92% pruned by magnitude, the survivors
  /// quantized to 31 linearly spaced centroids (value indices 1...31; 0 is the zero index).
  func testRealisticPrunedQuantizedLayer() throws {
    var random = EntropyCodingRandom(seed: 14)
    let shape = [300, 784]
    let weights = (0..<(300 * 784)).map { _ in random.normal() }
    let threshold = weights.map { abs($0) }.sorted()[Int(Double(weights.count) * 0.92)]
    let positions = weights.indices.filter { abs(weights[$0]) > threshold }
    let survivors = positions.map { weights[$0] }
    let low = survivors.min()!
    let high = survivors.max()!
    let indices = survivors.map { UInt16(1 + ((($0 - low) / (high - low)) * 30).rounded()) }

    let nonzeros = Double(positions.count)
    var report =
      "EntropyCoding: 300x784 at \(String(format: "%.1f", 100 * (1 - nonzeros / Double(weights.count))))% "
      + "sparsity, \(positions.count) non-zeros, 32 value levels\n"
    var bestBits = Double.infinity
    for gapBits in 3...8 {
      let tensor = EntropyCodedTensor(
        shape: shape, nonzeroPositions: positions, valueIndices: indices, valueAlphabetSize: 32, gapBits: gapBits,
        zeroIndex: 0)
      let decoded = try EntropyCodedTensor(bytes: tensor.serialize()).decodePositionsAndIndices()
      XCTAssertEqual(decoded.positions, positions)
      XCTAssertEqual(decoded.valueIndices, indices)
      let entries = SparseIndexEncoding.entryCount(nonzeroPositions: positions, gapBits: gapBits)
      let gapBitsPerNonzero = Double(tensor.gapsStream.count * 8) / nonzeros
      let valueBitsPerNonzero = Double(tensor.valuesStream.count * 8) / nonzeros
      let totalBitsPerNonzero = Double(tensor.serialize().count * 8) / nonzeros
      let naiveBitsPerNonzero = Double(entries * (gapBits + 5)) / nonzeros
      report +=
        "  gap bits \(gapBits): \(entries - positions.count) fillers; Huffman gaps "
        + String(format: "%.2f", gapBitsPerNonzero) + " + values " + String(format: "%.2f", valueBitsPerNonzero)
        + " = " + String(format: "%.2f", totalBitsPerNonzero) + " bits per non-zero (fixed-width "
        + String(format: "%.2f", naiveBitsPerNonzero) + ")\n"
      if gapBits == 5 {
        XCTAssertLessThan(totalBitsPerNonzero, 10, "beats the naive 5-bit gap + 5-bit value")
        XCTAssertLessThan(totalBitsPerNonzero, naiveBitsPerNonzero)
      }
      bestBits = min(bestBits, totalBitsPerNonzero)
    }
    let fixedWidthBest = SparseIndexEncoding.bestGapBits(nonzeroPositions: positions, valueBits: 5)
    report +=
      "  fixed-width best gap width: \(fixedWidthBest) bits; dense 32-bit floats: "
      + String(format: "%.1f", Double(weights.count * 32) / nonzeros) + " bits per non-zero; best Huffman-coded: "
      + String(format: "%.2f", bestBits) + " ("
      + String(format: "%.1f", Double(weights.count * 32) / (bestBits * nonzeros))
      + "x smaller)"
    print(report)
  }
}
