import LatheTensor

/// The `huffman` encoding of a shared-weight tensor: positions as relative gaps and codebook
/// indices, both Huffman-coded in an `EntropyCodedTensor` (Deep Compression's third stage).
enum HuffmanWeightStream {
  /// Gap widths tried when none is given: fillers cost a value index each, so after coding the
  /// best width is often wider than the fixed-width optimum.
  static let candidateGapBits = 3...8

  static func encode(_ weights: EncodedWeights, gapBits: Int) -> [UInt8] {
    let widths = gapBits > 0 ? gapBits...gapBits : candidateGapBits
    let zero = UInt16(weights.codebook.count)
    return widths.map { bits in
      EntropyCodedTensor(
        shape: weights.shape, nonzeroPositions: weights.positions, valueIndices: weights.valueIndices,
        valueAlphabetSize: weights.codebook.count + 1, gapBits: bits, zeroIndex: zero
      ).serialize()
    }.min { $0.count < $1.count }!
  }

  static func decode(_ bytes: [UInt8], shape: [Int], codebook: [Float]) throws -> EncodedWeights {
    let tensor = try EntropyCodedTensor(bytes: bytes)
    guard tensor.shape == shape else {
      throw EntropyCodedTensorError.malformedField(field: "shape \(tensor.shape), expected \(shape)", offset: 0)
    }
    guard Int(tensor.zeroIndex) == codebook.count else {
      throw EntropyCodedTensorError.invalidZeroIndex(Int(tensor.zeroIndex))
    }
    let (positions, indices) = try tensor.decodePositionsAndIndices()
    guard indices.allSatisfy({ Int($0) < codebook.count }) else {
      throw EntropyCodedTensorError.malformedField(field: "value index beyond the codebook", offset: 0)
    }
    return EncodedWeights(
      shape: shape, encoding: .huffman, positions: positions, values: indices.map { codebook[Int($0)] },
      codebook: codebook,
      valueIndices: indices)
  }
}
