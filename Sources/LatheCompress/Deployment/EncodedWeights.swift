import LatheTensor

/// A weight tensor as a compressed model file stores it, and the sparse form it decodes to.
///
/// Positions of non-zeros are stored as gaps from the previous one (Deep Compression's relative
/// indexing), 8 bits each; a gap too long for 8 bits is bridged by filler entries of gap 255
/// that hold zero. Three encodings:
/// - `csr`: gaps (U8) and fp32 values — pruned layers without shared weights;
/// - `codebook`: gaps (U8), a codebook (F32, last entry is the fillers' zero) and one index per
///   entry (U8, or I32 past 255 centroids) — after weight sharing;
/// - `huffman`: the codebook plus gaps and indices Huffman-coded into one byte stream.
public struct EncodedWeights: Sendable, Equatable {
  public enum Encoding: String, Sendable { case csr, codebook, huffman }

  public var shape: [Int]
  public var encoding: Encoding
  /// Flat row-major indices of the non-zero elements, ascending.
  public var positions: [Int]
  /// Value of each non-zero element.
  public var values: [Float]
  /// Shared values (codebook and huffman encodings).
  public var codebook: [Float]
  /// Codebook index of each non-zero element.
  public var valueIndices: [UInt16]
  /// Bits per gap for the huffman encoding before coding; 0 tries several and keeps the smallest.
  public var gapBits = 0

  public var count: Int { shape.reduce(1, *) }
  public var density: Double { Double(positions.count) / Double(max(count, 1)) }

  /// Encodes a weight tensor: its non-zeros, and its codebook when it has one.
  public init(_ weight: Tensor<Float>, codebook: WeightCodebook?, encoding: Encoding) {
    shape = weight.shape
    let scalars = weight.scalars
    positions = scalars.indices.filter { scalars[$0] != 0 }
    values = positions.map { scalars[$0] }
    if let codebook, encoding != .csr {
      self.encoding = encoding
      self.codebook = codebook.centroids
      valueIndices = positions.map { codebook.assignments[$0] }
    } else {
      self.encoding = .csr
      self.codebook = []
      valueIndices = []
    }
  }

  init(shape: [Int], encoding: Encoding, positions: [Int], values: [Float], codebook: [Float], valueIndices: [UInt16]) {
    self.shape = shape
    self.encoding = encoding
    self.positions = positions
    self.values = values
    self.codebook = codebook
    self.valueIndices = valueIndices
  }

  /// The dense tensor.
  public func dense() -> Tensor<Float> {
    Tensor(shape: shape) { out in
      out.initialize(repeating: 0)
      for (p, v) in zip(positions, values) { out[p] = v }
    }
  }

  /// Compressed sparse rows of the tensor seen as [shape[0], rest].
  public func csr() -> (rowPointers: [Int32], columns: [Int32], values: [Float]) {
    let rows = shape.first ?? 1
    let columns = count / max(rows, 1)
    var rowPointers = [Int32](repeating: 0, count: rows + 1)
    for p in positions { rowPointers[p / columns + 1] += 1 }
    for r in 0..<rows { rowPointers[r + 1] += rowPointers[r] }
    return (rowPointers, positions.map { Int32($0 % columns) }, values)
  }

  // MARK: - Files

  /// The tensors written to a model file, by local suffix.
  public func storedTensors(prefix: String) -> [(name: String, tensor: AnyTensor)] {
    let (gaps, entries) = RelativeIndexing.encode(positions)
    let gapTensor = AnyTensor.uint8(Tensor(shape: [gaps.count], scalars: gaps))
    switch encoding {
    case .csr:
      let stored = entries.map { $0 < 0 ? Float(0) : values[$0] }
      return [
        ("\(prefix)gaps", gapTensor), ("\(prefix)values", .float32(Tensor(shape: [stored.count], scalars: stored))),
      ]
    case .codebook:
      let zero = UInt16(codebook.count)
      let indices = entries.map { $0 < 0 ? zero : valueIndices[$0] }
      let indexTensor: AnyTensor =
        codebook.count < 256
        ? .uint8(Tensor(shape: [indices.count], scalars: indices.map { UInt8($0) }))
        : .int32(Tensor(shape: [indices.count], scalars: indices.map { Int32($0) }))
      return [
        ("\(prefix)gaps", gapTensor),
        ("\(prefix)codebook", .float32(Tensor(shape: [codebook.count + 1], scalars: codebook + [0]))),
        ("\(prefix)indices", indexTensor),
      ]
    case .huffman:
      let stream = HuffmanWeightStream.encode(self, gapBits: gapBits)
      return [
        ("\(prefix)codebook", .float32(Tensor(shape: [codebook.count], scalars: codebook))),
        ("\(prefix)huffman", .uint8(Tensor(shape: [stream.count], scalars: stream))),
      ]
    }
  }

  /// Reads an encoded tensor back, validating everything a corrupt file could get wrong.
  public static func restore(
    from tensors: [String: AnyTensor], prefix: String, shape: [Int], encoding: Encoding, node: String
  ) throws(ModelError) -> EncodedWeights {
    let count = shape.reduce(1, *)
    func tensor(_ name: String) throws(ModelError) -> AnyTensor {
      guard let t = tensors[prefix + name] else { throw .missingParameter("\(node).\(prefix)\(name)") }
      return t
    }
    func bad(_ name: String, _ reason: String) -> ModelError {
      .invalidValue(parameter: "\(node).\(prefix)\(name)", reason: reason)
    }
    switch encoding {
    case .huffman:
      guard case .float32(let book) = try tensor("codebook") else { throw bad("codebook", "expected F32") }
      guard case .uint8(let stream) = try tensor("huffman") else { throw bad("huffman", "expected U8") }
      do {
        return try HuffmanWeightStream.decode(stream.scalars, shape: shape, codebook: book.scalars)
      } catch {
        throw bad("huffman", "\(error)")
      }
    case .csr, .codebook:
      guard case .uint8(let gapsTensor) = try tensor("gaps") else { throw bad("gaps", "expected U8") }
      let gaps = gapsTensor.scalars
      guard let positions = RelativeIndexing.decode(gaps, count: count) else {
        throw bad("gaps", "positions run past the \(count) elements of shape \(shape)")
      }
      if encoding == .csr {
        guard case .float32(let stored) = try tensor("values"), stored.count == gaps.count else {
          throw bad("values", "expected F32 with one value per gap (\(gaps.count))")
        }
        let all = stored.scalars
        guard all.allSatisfy(\.isFinite) else { throw .nonFinite(parameter: "\(node).\(prefix)values") }
        let kept = all.indices.filter { all[$0] != 0 }
        return EncodedWeights(
          shape: shape, encoding: .csr, positions: kept.map { positions[$0] }, values: kept.map { all[$0] },
          codebook: [],
          valueIndices: [])
      }
      guard case .float32(let bookTensor) = try tensor("codebook"), bookTensor.count >= 1 else {
        throw bad("codebook", "expected F32 with at least the zero entry")
      }
      let book = bookTensor.scalars
      guard book.allSatisfy(\.isFinite) else { throw .nonFinite(parameter: "\(node).\(prefix)codebook") }
      let indices: [Int]
      switch try tensor("indices") {
      case .uint8(let t): indices = t.scalars.map(Int.init)
      case .int32(let t): indices = t.scalars.map(Int.init)
      default: throw bad("indices", "expected U8 or I32")
      }
      guard indices.count == gaps.count, indices.allSatisfy({ $0 >= 0 && $0 < book.count }) else {
        throw bad("indices", "expected \(gaps.count) indices below \(book.count)")
      }
      let zero = book.count - 1
      let kept = indices.indices.filter { indices[$0] != zero }
      return EncodedWeights(
        shape: shape, encoding: .codebook, positions: kept.map { positions[$0] },
        values: kept.map { book[indices[$0]] },
        codebook: Array(book.dropLast()), valueIndices: kept.map { UInt16(indices[$0]) })
    }
  }
}

/// Positions as 8-bit gaps with filler entries, the storage Deep Compression uses.
enum RelativeIndexing {
  /// Gap of each entry, and for each entry the index of the position it stores (-1 = filler).
  static func encode(_ positions: [Int]) -> (gaps: [UInt8], entries: [Int]) {
    var gaps: [UInt8] = []
    var entries: [Int] = []
    var previous = -1
    for (i, p) in positions.enumerated() {
      var gap = p - previous
      while gap > 255 {
        gaps.append(255)
        entries.append(-1)
        gap -= 255
      }
      gaps.append(UInt8(gap))
      entries.append(i)
      previous = p
    }
    return (gaps, entries)
  }

  /// Positions of all entries (fillers included), or nil if they leave [0, count).
  static func decode(_ gaps: [UInt8], count: Int) -> [Int]? {
    var positions: [Int] = []
    positions.reserveCapacity(gaps.count)
    var p = -1
    for gap in gaps {
      guard gap > 0 else { return nil }
      p += Int(gap)
      guard p < count else { return nil }
      positions.append(p)
    }
    return positions
  }
}
