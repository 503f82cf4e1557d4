/// One pruned, quantized weight tensor after Deep Compression's third stage: the positions of its
/// non-zeros as relative gaps and their codebook indices, each sequence Huffman coded.
///
/// This is a building block for model files: it knows nothing of codebooks or layers, only which
/// elements are non-zero and which value index each holds (`SparseIndexEncoding` describes the
/// gaps, fillers and the zero index).
///
/// Serialized format, version 1 (varints are unsigned LEB128):
///
/// | field              | encoding                                                         |
/// |--------------------|------------------------------------------------------------------|
/// | version            | 1 byte, `formatVersion` (1)                                      |
/// | rank               | varint, at most `maxRank`                                        |
/// | dimensions         | `rank` varints; the elements are the row-major flattening        |
/// | gap bits           | 1 byte, `1...16`                                                 |
/// | zero index         | varint, `0...65535`: the value index of filler entries           |
/// | gap stream         | varint byte count, then a `HuffmanCoder` stream of the gaps      |
/// |                    | (alphabet `2^gapBits`)                                           |
/// | value-index stream | varint byte count, then a `HuffmanCoder` stream of the value     |
/// |                    | indices, fillers included (its alphabet is the codebook size)   |
///
/// Nothing follows the value-index stream. Each Huffman stream carries its own version, alphabet
/// size, symbol count and code lengths, so this container only adds what ties them together.
public struct EntropyCodedTensor: Equatable, Sendable {
  public static let formatVersion: UInt8 = 1
  /// Far above any real tensor; bounds what a corrupt header can make the reader allocate.
  public static let maxRank = 16

  public let shape: [Int]
  public let gapBits: Int
  public let zeroIndex: UInt16
  /// Huffman stream of the gaps, one per entry.
  public let gapsStream: [UInt8]
  /// Huffman stream of the value indices, one per entry.
  public let valuesStream: [UInt8]

  /// The number of elements, zeros included: the product of `shape`.
  public var elementCount: Int { shape.reduce(1, *) }

  /// Encodes the non-zeros at `nonzeroPositions` (row-major, strictly increasing) with their
  /// value indices, each below `valueAlphabetSize` and none equal to `zeroIndex`.
  ///
  /// - Precondition: as for `SparseIndexEncoding.encode`, plus `zeroIndex < valueAlphabetSize`.
  public init(
    shape: [Int], nonzeroPositions: [Int], valueIndices: [UInt16], valueAlphabetSize: Int, gapBits: Int,
    zeroIndex: UInt16
  ) {
    precondition(shape.count <= Self.maxRank, "EntropyCodedTensor: rank \(shape.count) is above \(Self.maxRank)")
    precondition(shape.allSatisfy { $0 >= 0 }, "EntropyCodedTensor: shape \(shape) has a negative dimension")
    precondition(
      Int(zeroIndex) < valueAlphabetSize,
      "EntropyCodedTensor: zero index \(zeroIndex) is not below the value alphabet size \(valueAlphabetSize)")
    let entries = SparseIndexEncoding.encode(
      nonzeroPositions: nonzeroPositions, valueIndices: valueIndices, totalCount: shape.reduce(1, *),
      gapBits: gapBits, zeroIndex: zeroIndex)
    self.shape = shape
    self.gapBits = gapBits
    self.zeroIndex = zeroIndex
    self.gapsStream = HuffmanCoder.encode(entries.gaps, alphabetSize: 1 << gapBits)
    self.valuesStream = HuffmanCoder.encode(entries.values, alphabetSize: valueAlphabetSize)
  }

  /// Encodes a dense array of value indices in which `zeroIndex` marks the zeros.
  public init(shape: [Int], denseIndices: [UInt16], valueAlphabetSize: Int, gapBits: Int, zeroIndex: UInt16) {
    precondition(
      denseIndices.count == shape.reduce(1, *),
      "EntropyCodedTensor: \(denseIndices.count) indices for shape \(shape)")
    let positions = denseIndices.indices.filter { denseIndices[$0] != zeroIndex }
    self.init(
      shape: shape, nonzeroPositions: positions, valueIndices: positions.map { denseIndices[$0] },
      valueAlphabetSize: valueAlphabetSize, gapBits: gapBits, zeroIndex: zeroIndex)
  }

  /// Reads the container's structure. The Huffman streams are checked when decoded, by
  /// `decodePositionsAndIndices`, so loading a model does not pay for decoding every layer.
  public init(bytes: [UInt8]) throws(EntropyCodedTensorError) {
    var reader = ByteFieldReader(bytes)
    func byte(_ field: String) throws(EntropyCodedTensorError) -> UInt8 {
      do throws(ByteFieldError) { return try reader.byte(field) } catch { throw EntropyCodedTensorError(error) }
    }
    func varint(_ field: String) throws(EntropyCodedTensorError) -> Int {
      do throws(ByteFieldError) { return try reader.varint(field) } catch { throw EntropyCodedTensorError(error) }
    }
    func stream(_ field: String) throws(EntropyCodedTensorError) -> [UInt8] {
      let count = try varint("\(field) byte count")
      do throws(ByteFieldError) { return try reader.bytes(count, field) } catch { throw EntropyCodedTensorError(error) }
    }

    let version = try byte("format version")
    guard version == Self.formatVersion else { throw .unsupportedVersion(version) }
    let rank = try varint("rank")
    guard rank <= Self.maxRank else { throw .rankTooLarge(rank) }
    var shape: [Int] = []
    var elementCount = 1
    for axis in 0..<rank {
      shape.append(try varint("dimension \(axis)"))
      let (product, overflow) = elementCount.multipliedReportingOverflow(by: shape[axis])
      guard !overflow else { throw .shapeTooLarge(shape) }
      elementCount = product
    }
    let gapBits = Int(try byte("gap bits"))
    guard SparseIndexEncoding.gapBitsRange.contains(gapBits) else { throw .invalidGapBits(gapBits) }
    let zeroIndex = try varint("zero index")
    guard zeroIndex <= Int(UInt16.max) else { throw .invalidZeroIndex(zeroIndex) }
    let gapsStream = try stream("gap stream")
    let valuesStream = try stream("value-index stream")
    guard reader.remainingCount == 0 else { throw .trailingBytes(count: reader.remainingCount) }

    self.shape = shape
    self.gapBits = gapBits
    self.zeroIndex = UInt16(zeroIndex)
    self.gapsStream = gapsStream
    self.valuesStream = valuesStream
  }

  /// The bytes `init(bytes:)` reads back.
  public func serialize() -> [UInt8] {
    var bytes: [UInt8] = [Self.formatVersion]
    ByteFieldWriter.appendVarint(shape.count, to: &bytes)
    for dimension in shape { ByteFieldWriter.appendVarint(dimension, to: &bytes) }
    bytes.append(UInt8(gapBits))
    ByteFieldWriter.appendVarint(Int(zeroIndex), to: &bytes)
    for stream in [gapsStream, valuesStream] {
      ByteFieldWriter.appendVarint(stream.count, to: &bytes)
      bytes += stream
    }
    return bytes
  }

  /// The row-major positions of the non-zeros and their value indices, fillers removed.
  public func decodePositionsAndIndices() throws(EntropyCodedTensorError) -> (
    positions: [Int], valueIndices: [UInt16]
  ) {
    let gaps: [UInt16]
    let values: [UInt16]
    do throws(HuffmanCodingError) {
      gaps = try HuffmanCoder.decode(gapsStream)
    } catch {
      throw .gapsStream(error)
    }
    do throws(HuffmanCodingError) {
      values = try HuffmanCoder.decode(valuesStream)
    } catch {
      throw .valuesStream(error)
    }
    do throws(SparseIndexError) {
      return try SparseIndexEncoding.decode(
        gaps: gaps, values: values, totalCount: elementCount, gapBits: gapBits, zeroIndex: zeroIndex)
    } catch {
      throw .entries(error)
    }
  }

  /// All `elementCount` value indices, `zeroIndex` where the tensor is zero.
  ///
  /// This allocates `elementCount` entries, as the stored shape says: check the shape against
  /// what the model expects before calling this on untrusted bytes.
  public func decodeDenseIndices() throws(EntropyCodedTensorError) -> [UInt16] {
    let (positions, valueIndices) = try decodePositionsAndIndices()
    var dense = [UInt16](repeating: zeroIndex, count: elementCount)
    for (position, value) in zip(positions, valueIndices) { dense[position] = value }
    return dense
  }

  /// The serialized size in bytes.
  public var byteCount: Int { serialize().count }
}
