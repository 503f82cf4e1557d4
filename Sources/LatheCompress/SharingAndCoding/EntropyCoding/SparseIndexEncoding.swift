/// Why a relative-index sparse encoding could not be decoded.
public enum SparseIndexError: Error, Equatable, Sendable, CustomStringConvertible {
  case invalidGapBits(Int)
  case invalidTotalCount(Int)
  case lengthMismatch(gaps: Int, values: Int)
  /// Gap `gap` of entry `entry` does not fit in the gap width.
  case gapTooLarge(entry: Int, gap: Int, maximum: Int)
  /// Entry `entry` lands on `position`, past the end of the matrix.
  case positionOutOfRange(entry: Int, position: Int, totalCount: Int)
  /// A filler (value = zero index) whose gap is not the maximum: the encoder never writes one.
  case fillerGapNotMaximal(entry: Int, gap: Int, maximum: Int)
  /// Fillers after the last real entry: the encoder never writes them.
  case trailingFiller(entry: Int)

  public var description: String {
    switch self {
    case .invalidGapBits(let bits):
      return "sparse indices: gap width \(bits) bits is outside \(SparseIndexEncoding.gapBitsRange)"
    case .invalidTotalCount(let count):
      return "sparse indices: element count \(count) is negative"
    case .lengthMismatch(let gaps, let values):
      return "sparse indices: \(gaps) gaps but \(values) value indices; they pair up one to one"
    case .gapTooLarge(let entry, let gap, let maximum):
      return "sparse indices: entry \(entry) has gap \(gap), above the maximum \(maximum)"
    case .positionOutOfRange(let entry, let position, let totalCount):
      return "sparse indices: entry \(entry) lands on position \(position), past the \(totalCount) elements"
    case .fillerGapNotMaximal(let entry, let gap, let maximum):
      return "sparse indices: filler entry \(entry) has gap \(gap); fillers always have gap \(maximum)"
    case .trailingFiller(let entry):
      return "sparse indices: entry \(entry) is a filler after the last non-zero entry"
    }
  }
}

/// Deep Compression's relative indexing of a sparse matrix (Han et al. 2016, §2 and Figure 2).
///
/// The matrix is flattened row-major into `totalCount` elements. Each non-zero becomes an entry
/// (gap, value index), where the gap is the number of zeros skipped since the previous entry:
///
///     gap = position - previousPosition - 1,   previousPosition = -1 before the first entry
///
/// so a non-zero at position 0, and every non-zero right after another, has gap 0, and a fully
/// dense matrix has all gaps 0. Gaps are stored in `gapBits` bits, so at most
/// `maxGap = 2^gapBits - 1`. When more zeros than that separate two non-zeros, the encoder
/// inserts a **filler** entry (gap `maxGap`, value `zeroIndex`): it skips `maxGap` zeros and
/// stores the zero after them explicitly, so each filler covers `2^gapBits` positions and a run
/// of `z` zeros needs `z / 2^gapBits` fillers (integer division).
///
/// The value index `zeroIndex` is reserved for fillers: real entries must not use it, and the
/// decoder reads every entry that carries it as a filler. Zeros after the last non-zero are not
/// stored; `totalCount` says where the matrix ends.
///
/// The paper uses 8-bit gaps for conv layers and 5-bit gaps for fully connected ones;
/// `bestGapBits` picks the width that minimises the fixed-width total for a given matrix.
public enum SparseIndexEncoding {
  /// Gaps travel as `UInt16`, so at most 16 bits.
  public static let gapBitsRange = 1...16

  /// The (gap, value index) entries for the non-zeros at `nonzeroPositions`, fillers included.
  ///
  /// - Precondition: positions are strictly increasing and in `0..<totalCount`, one value index
  ///   per position, none equal to `zeroIndex`, and `gapBits` is in `gapBitsRange`.
  public static func encode(
    nonzeroPositions: [Int], valueIndices: [UInt16], totalCount: Int, gapBits: Int, zeroIndex: UInt16
  ) -> (gaps: [UInt16], values: [UInt16]) {
    precondition(gapBitsRange.contains(gapBits), "SparseIndexEncoding: gap width \(gapBits) is outside 1...16")
    precondition(
      nonzeroPositions.count == valueIndices.count,
      "SparseIndexEncoding: \(nonzeroPositions.count) positions but \(valueIndices.count) value indices")
    let span = 1 << gapBits  // positions covered by one filler
    let entryCount = self.entryCount(nonzeroPositions: nonzeroPositions, gapBits: gapBits)
    var gaps: [UInt16] = []
    var values: [UInt16] = []
    gaps.reserveCapacity(entryCount)
    values.reserveCapacity(entryCount)

    var previous = -1
    for (position, value) in zip(nonzeroPositions, valueIndices) {
      precondition(position > previous, "SparseIndexEncoding: positions must be strictly increasing and non-negative")
      precondition(position < totalCount, "SparseIndexEncoding: position \(position) is not below \(totalCount)")
      precondition(value != zeroIndex, "SparseIndexEncoding: a non-zero at \(position) uses the zero index \(value)")
      var gap = position - previous - 1
      while gap >= span {
        gaps.append(UInt16(span - 1))
        values.append(zeroIndex)
        gap -= span
      }
      gaps.append(UInt16(gap))
      values.append(value)
      previous = position
    }
    return (gaps, values)
  }

  /// The positions and value indices of the non-zeros, fillers dropped: the inverse of `encode`.
  ///
  /// Rejects anything `encode` could not have written, so a corrupt stream cannot decode to a
  /// plausible-looking wrong matrix through this step.
  public static func decode(
    gaps: [UInt16], values: [UInt16], totalCount: Int, gapBits: Int, zeroIndex: UInt16
  ) throws(SparseIndexError) -> (positions: [Int], valueIndices: [UInt16]) {
    guard gapBitsRange.contains(gapBits) else { throw .invalidGapBits(gapBits) }
    guard totalCount >= 0 else { throw .invalidTotalCount(totalCount) }
    guard gaps.count == values.count else { throw .lengthMismatch(gaps: gaps.count, values: values.count) }
    let maxGap = (1 << gapBits) - 1
    var positions: [Int] = []
    var valueIndices: [UInt16] = []
    positions.reserveCapacity(gaps.count)
    valueIndices.reserveCapacity(gaps.count)

    var previous = -1
    for entry in gaps.indices {
      let gap = Int(gaps[entry])
      guard gap <= maxGap else { throw .gapTooLarge(entry: entry, gap: gap, maximum: maxGap) }
      let position = previous + gap + 1
      guard position < totalCount else {
        throw .positionOutOfRange(entry: entry, position: position, totalCount: totalCount)
      }
      if values[entry] == zeroIndex {
        guard gap == maxGap else { throw .fillerGapNotMaximal(entry: entry, gap: gap, maximum: maxGap) }
      } else {
        positions.append(position)
        valueIndices.append(values[entry])
      }
      previous = position
    }
    if let last = values.last, last == zeroIndex { throw .trailingFiller(entry: values.count - 1) }
    return (positions, valueIndices)
  }

  /// The number of entries `encode` writes: one per non-zero plus the fillers.
  public static func entryCount(nonzeroPositions: [Int], gapBits: Int) -> Int {
    precondition(gapBitsRange.contains(gapBits), "SparseIndexEncoding: gap width \(gapBits) is outside 1...16")
    var count = nonzeroPositions.count
    var previous = -1
    for position in nonzeroPositions {
      count += (position - previous - 1) >> gapBits
      previous = position
    }
    return count
  }

  /// The gap width in `candidates` that minimises the fixed-width size,
  /// `entryCount × (gapBits + valueBits)`; ties go to the narrower width.
  ///
  /// Narrow gaps cost fewer bits per entry but need more fillers; this finds the balance for one
  /// matrix. After Huffman coding the sizes shift a little, but fillers still cost a value each.
  public static func bestGapBits(
    nonzeroPositions: [Int], valueBits: Int, candidates: ClosedRange<Int> = 1...12
  ) -> Int {
    precondition(
      gapBitsRange.contains(candidates.lowerBound) && gapBitsRange.contains(candidates.upperBound),
      "SparseIndexEncoding: candidate gap widths \(candidates) are outside 1...16")
    var best = candidates.lowerBound
    var bestBits = Int.max
    for gapBits in candidates {
      let bits = entryCount(nonzeroPositions: nonzeroPositions, gapBits: gapBits) * (gapBits + valueBits)
      if bits < bestBits {
        best = gapBits
        bestBits = bits
      }
    }
    return best
  }
}
