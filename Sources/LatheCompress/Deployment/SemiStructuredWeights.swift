import CKernels
import LatheTensor

/// A Linear weight [rows = out, columns = in] in 2:4 semi-structured form: every block of 4
/// consecutive inputs of every row keeps 2 weights (what Wanda/SparseGPT with pattern "2:4"
/// leave; NVIDIA's sparse tensor core format). Stored as the kept values (fp32, half the
/// weights) and their positions, 4 bits per block (p0 | p1 << 2, p0 < p1): 1 bit per original
/// weight, so 16 + 1 = 17 bits per weight against 32. Kept in the kernel's packed form too
/// (lk_sp24_pack), never as a dense matrix.
public final class SemiStructuredWeights: @unchecked Sendable {
  public let rows: Int
  public let columns: Int
  /// [rows, columns / 2]: block b's kept weights at 2b (position p0) and 2b + 1 (p1).
  public let values: [Float]
  /// [rows, columns / 4], one byte per block: p0 | p1 << 2 with p0 < p1.
  public let positions: [UInt8]
  /// lk_sp24_pack's layout, read-only after init (64-byte aligned).
  let packed: UnsafeMutableRawPointer

  public var blocks: Int { columns / 4 }

  public init(rows: Int, columns: Int, values: [Float], positions: [UInt8]) {
    precondition(columns % 4 == 0, "2:4 weights need a multiple of 4 inputs")
    precondition(values.count == rows * columns / 2 && positions.count == rows * columns / 4)
    self.rows = rows
    self.columns = columns
    self.values = values
    self.positions = positions
    let size = max(lk_sp24_packed_bytes(Int32(rows), Int32(columns)), 64)
    packed = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    lk_sp24_pack(Int32(rows), Int32(columns), values, positions, packed)
  }

  deinit { packed.deallocate() }

  /// The kept weights of `weight` where `mask` is nonzero, or nil unless the mask keeps exactly
  /// 2 of every 4 consecutive inputs in every row (columns a multiple of 4). A kept weight may
  /// itself be zero; a zero the mask does not keep is dropped.
  public convenience init?(weight: Tensor<Float>, mask: Tensor<Float>) {
    guard weight.shape.count == 2, mask.shape == weight.shape, weight.shape[1] % 4 == 0, weight.shape[1] > 0 else {
      return nil
    }
    let (rows, columns) = (weight.shape[0], weight.shape[1])
    let w = weight.contiguous().scalars
    let m = mask.contiguous().scalars
    var values = [Float](repeating: 0, count: rows * columns / 2)
    var positions = [UInt8](repeating: 0, count: rows * columns / 4)
    for e in 0..<(rows * columns / 4) {
      let kept = (0..<4).filter { m[4 * e + $0] != 0 }
      guard kept.count == 2 else { return nil }
      positions[e] = UInt8(kept[0] | kept[1] << 2)
      values[2 * e] = w[4 * e + kept[0]]
      values[2 * e + 1] = w[4 * e + kept[1]]
    }
    self.init(rows: rows, columns: columns, values: values, positions: positions)
  }

  /// Whether `mask` keeps exactly 2 of every 4 consecutive inputs of every row.
  public static func isTwoFour(_ mask: Tensor<Float>) -> Bool {
    guard mask.shape.count == 2, mask.shape[1] % 4 == 0, mask.shape[1] > 0 else { return false }
    let m = mask.contiguous().scalars
    return stride(from: 0, to: m.count, by: 4).allSatisfy { b in (b..<(b + 4)).filter { m[$0] != 0 }.count == 2 }
  }

  /// The weight as a dense matrix (reference, export and inspection; inference never builds it).
  public func dense() -> Tensor<Float> {
    Tensor(shape: [rows, columns]) { out in
      out.update(repeating: 0)
      for e in 0..<(rows * blocks) {
        out[4 * e + Int(positions[e] & 3)] = values[2 * e]
        out[4 * e + Int(positions[e] >> 2)] = values[2 * e + 1]
      }
    }
  }

  /// y [m, rows] = x [m, columns] · Wᵀ + bias through lk_sp24_gemm.
  func product(_ x: Tensor<Float>, bias: Tensor<Float>?) -> Tensor<Float> {
    let m = x.shape[0]
    return x.withUnsafeBufferPointer { xp in
      Tensor<Float>(shape: [m, rows]) { y in
        withOptionalPointer(bias) { b in
          lk_sp24_gemm(
            Int32(m), Int32(rows), Int32(columns), xp.baseAddress!, Int32(columns), packed, b, y.baseAddress!,
            Int32(rows))
        }
      }
    }
  }

  /// The file form: values F32 [rows, columns / 2]; positions U8 [rows, ceil(blocks / 2)], block
  /// 2i in the low nibble and 2i + 1 in the high nibble of byte i (a row's odd last block
  /// leaves a zero high nibble).
  func storedTensors(prefix: String) -> [(name: String, tensor: AnyTensor)] {
    let width = (blocks + 1) / 2
    var nibbles = [UInt8](repeating: 0, count: rows * width)
    for r in 0..<rows {
      for b in 0..<blocks { nibbles[r * width + b / 2] |= positions[r * blocks + b] << (4 * (b % 2)) }
    }
    return [
      (prefix + "values", .float32(Tensor(shape: [rows, columns / 2], scalars: values))),
      (prefix + "positions", .uint8(Tensor(shape: [rows, width], scalars: nibbles))),
    ]
  }

  /// Rebuilds the weights from a file's tensors, checking type, shape and that every block's
  /// positions are two distinct inputs in order.
  static func restore(
    from tensors: [String: AnyTensor], prefix: String, rows: Int, columns: Int, node: String
  ) throws(ModelError) -> SemiStructuredWeights {
    guard columns % 4 == 0 else {
      throw .invalidValue(
        parameter: "\(node).\(prefix)values", reason: "2:4 weights need a multiple of 4 inputs, not \(columns)")
    }
    let blocks = columns / 4
    let width = (blocks + 1) / 2
    guard let storedValues = tensors[prefix + "values"] else { throw .missingParameter("\(node).\(prefix)values") }
    guard case .float32(let v) = storedValues else {
      throw .wrongType(parameter: "\(node).\(prefix)values", expected: "F32", found: storedValues.dtype.rawValue)
    }
    guard v.shape == [rows, columns / 2] else {
      throw .shapeMismatch(parameter: "\(node).\(prefix)values", expected: [rows, columns / 2], found: v.shape)
    }
    guard let storedPositions = tensors[prefix + "positions"] else {
      throw .missingParameter("\(node).\(prefix)positions")
    }
    guard case .uint8(let p) = storedPositions else {
      throw .wrongType(parameter: "\(node).\(prefix)positions", expected: "U8", found: storedPositions.dtype.rawValue)
    }
    guard p.shape == [rows, width] else {
      throw .shapeMismatch(parameter: "\(node).\(prefix)positions", expected: [rows, width], found: p.shape)
    }
    let nibbles = p.scalars
    var positions = [UInt8](repeating: 0, count: rows * blocks)
    for r in 0..<rows {
      for b in 0..<blocks {
        let code = (nibbles[r * width + b / 2] >> (4 * (b % 2))) & 15
        guard code & 3 < code >> 2 else {
          throw .invalidValue(
            parameter: "\(node).\(prefix)positions",
            reason: "row \(r), block \(b): code \(code) is not two inputs p0 < p1 (p0 | p1 << 2)")
        }
        positions[r * blocks + b] = code
      }
      if blocks % 2 == 1, nibbles[r * width + width - 1] >> 4 != 0 {
        throw .invalidValue(
          parameter: "\(node).\(prefix)positions", reason: "row \(r): the unused high nibble of the last byte is not 0")
      }
    }
    return SemiStructuredWeights(rows: rows, columns: columns, values: v.scalars, positions: positions)
  }
}
