import CKernels
import Foundation
import LatheTensor

/// A weight matrix [out, k] in signed 8 or 4 bits with one fp32 scale per group of
/// `groupSize` consecutive inputs of a row (ggml's Q8_0 / Q4_0 layout idea). When k is not a
/// multiple of the group size, each row's last group is shorter. Kept in the file's form and
/// in the kernel's packed form (rows padded to 32, int4 nibbles reordered), never as floats.
public final class GroupQuantizedWeights: @unchecked Sendable {
  public let rows: Int
  public let columns: Int
  public let bits: Int
  public let groupSize: Int
  /// [rows, groups] scales, row-major.
  public let scales: [Float]
  /// The file form: I8 [rows, columns], or for 4 bits U8 [rows, ceil(columns / 2)] with element
  /// 2i in the low nibble and 2i + 1 in the high nibble of byte i, each stored as q + 8.
  public let stored: AnyTensor
  /// lk_wq_pack's layout, read-only after init (64-byte aligned).
  let packed: UnsafeMutableRawPointer
  /// lk_wq_row_offsets of the packed rows: computed once here instead of on every product.
  let rowOffsets: [Float]

  public var groups: Int { (columns + groupSize - 1) / groupSize }
  /// The largest level: 127 for 8 bits, 7 for 4 (symmetric; −8 is never produced).
  public static func maxLevel(bits: Int) -> Int { bits == 8 ? 127 : 7 }

  /// `values` holds one level per weight, row-major [rows, columns].
  public init(values: [Int8], rows: Int, columns: Int, bits: Int, groupSize: Int, scales: [Float]) {
    precondition(bits == 8 || bits == 4, "bits must be 8 or 4")
    precondition(groupSize > 0 && groupSize % 32 == 0, "group size must be a multiple of 32")
    precondition(values.count == rows * columns && scales.count == rows * ((columns + groupSize - 1) / groupSize))
    self.rows = rows
    self.columns = columns
    self.bits = bits
    self.groupSize = groupSize
    self.scales = scales
    stored =
      bits == 8
      ? .int8(Tensor(shape: [rows, columns], scalars: values))
      : .uint8(
        Tensor(shape: [rows, (columns + 1) / 2], scalars: Self.packNibbles(values, rows: rows, columns: columns)))
    let size = max(lk_wq_row_bytes(Int32(columns), Int32(bits), Int32(groupSize)) * rows, 64)
    let packed = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    values.withUnsafeBufferPointer {
      lk_wq_pack($0.baseAddress!, Int32(rows), Int32(columns), Int32(bits), Int32(groupSize), packed)
    }
    var offsets = [Float](repeating: 0, count: rows)
    lk_wq_row_offsets(packed, Int32(rows), Int32(columns), Int32(bits), Int32(groupSize), scales, &offsets)
    self.packed = packed
    rowOffsets = offsets
  }

  deinit { packed.deallocate() }

  /// Quantizes an fp32 weight [out, k]: each group gets scale = max|w| / maxLevel and levels
  /// round(w / scale) (to nearest, ties to even, as lk_quantize_s8 rounds).
  public convenience init(quantizing weight: Tensor<Float>, bits: Int, groupSize: Int) {
    let rows = weight.shape[0]
    let columns = weight.count / rows
    let groups = (columns + groupSize - 1) / groupSize
    let top = Float(Self.maxLevel(bits: bits))
    let w = weight.contiguous().scalars
    var scales = [Float](repeating: 0, count: rows * groups)
    var q = [Int8](repeating: 0, count: w.count)
    for r in 0..<rows {
      for g in 0..<groups {
        let range = (r * columns + g * groupSize)..<(r * columns + min((g + 1) * groupSize, columns))
        let bound = w[range].reduce(Float(0)) { max($0, abs($1)) }
        let scale = max(bound, 1e-8) / top
        scales[r * groups + g] = scale
        let inverse = 1 / scale
        for i in range { q[i] = Int8(((w[i] * inverse).rounded(.toNearestOrEven)).clamped(-top, top)) }
      }
    }
    self.init(values: q, rows: rows, columns: columns, bits: bits, groupSize: groupSize, scales: scales)
  }

  /// One level per weight, row-major (unpacked from the file form).
  public var values: [Int8] {
    switch stored {
    case .int8(let t): return t.scalars
    case .uint8(let t): return Self.unpackNibbles(t.scalars, rows: rows, columns: columns)
    default: preconditionFailure("stored weights are I8 or U8")
    }
  }

  /// The weights as real numbers (reference and tests; inference never builds this).
  public func dequantized() -> Tensor<Float> {
    let v = values
    return Tensor(shape: [rows, columns]) { out in
      for r in 0..<rows {
        for c in 0..<columns { out[r * columns + c] = Float(v[r * columns + c]) * scales[r * groups + c / groupSize] }
      }
    }
  }

  /// Two levels per byte: element 2i in the low nibble, 2i + 1 in the high one, as q + 8; a
  /// row of odd length ends with a high nibble of 8 (zero).
  public static func packNibbles(_ values: [Int8], rows: Int, columns: Int) -> [UInt8] {
    let width = (columns + 1) / 2
    var bytes = [UInt8](repeating: 0x88, count: rows * width)
    for r in 0..<rows {
      for c in 0..<columns {
        let nibble = UInt8(Int(values[r * columns + c]) + 8)
        let i = r * width + c / 2
        bytes[i] = c % 2 == 0 ? (bytes[i] & 0xF0) | nibble : (bytes[i] & 0x0F) | (nibble << 4)
      }
    }
    return bytes
  }

  public static func unpackNibbles(_ bytes: [UInt8], rows: Int, columns: Int) -> [Int8] {
    let width = (columns + 1) / 2
    var values = [Int8](repeating: 0, count: rows * columns)
    for r in 0..<rows {
      for c in 0..<columns {
        let b = bytes[r * width + c / 2]
        values[r * columns + c] = Int8(Int(c % 2 == 0 ? b & 0x0F : b >> 4) - 8)
      }
    }
    return values
  }

  var storedTensors: [(name: String, tensor: AnyTensor)] {
    [("weight", stored), ("weight_scale", .float32(Tensor(shape: [rows, groups], scalars: scales)))]
  }

  /// Rebuilds the weights from a file's tensors, checking type, shape and values.
  static func restore(
    from tensors: [String: AnyTensor], rows: Int, columns: Int, bits: Int, groupSize: Int, node: String
  ) throws(ModelError) -> GroupQuantizedWeights {
    guard let weight = tensors["weight"] else { throw .missingParameter("\(node).weight") }
    let values: [Int8]
    switch (bits, weight) {
    case (8, .int8(let t)):
      guard t.shape == [rows, columns] else {
        throw .shapeMismatch(parameter: "\(node).weight", expected: [rows, columns], found: t.shape)
      }
      // vpsignb cannot negate −128: the kernels need levels within ±127.
      guard !t.scalars.contains(Int8.min) else {
        throw .invalidValue(parameter: "\(node).weight", reason: "int8 levels must lie in -127...127")
      }
      values = t.scalars
    case (4, .uint8(let t)):
      let width = (columns + 1) / 2
      guard t.shape == [rows, width] else {
        throw .shapeMismatch(parameter: "\(node).weight", expected: [rows, width], found: t.shape)
      }
      values = unpackNibbles(t.scalars, rows: rows, columns: columns)
    default:
      throw .wrongType(
        parameter: "\(node).weight", expected: bits == 8 ? "I8" : "U8", found: weight.dtype.rawValue)
    }
    let groups = (columns + groupSize - 1) / groupSize
    let scale = Parameter(.zeros([rows, groups]), isTrainable: false)
    try scale.restore(from: tensors["weight_scale"], name: "\(node).weight_scale")
    let scales = scale.value.scalars
    guard scales.allSatisfy({ $0 > 0 }) else {
      throw .invalidValue(parameter: "\(node).weight_scale", reason: "scales must be positive")
    }
    return GroupQuantizedWeights(
      values: values, rows: rows, columns: columns, bits: bits, groupSize: groupSize, scales: scales)
  }
}
