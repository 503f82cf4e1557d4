import CKernels
import Foundation
import LatheTensor

/// A weight matrix [out, k] in signed 2 to 8 bits with one fp32 scale per group of
/// `groupSize` consecutive inputs of a row (ggml's Q8_0 / Q4_0 layout idea). When k is not a
/// multiple of the group size, each row's last group is shorter. Kept in the file's form and
/// in the kernel's packed form (rows padded to 32, int4 nibbles reordered), never as floats.
///
/// The file stores exactly `bits` per level (int8 as I8, int4 as nibbles, other widths as a
/// bit stream), so int3 g32 costs 3 + 1 bits per weight on disk. The kernels exist for 4 and 8
/// bits: narrower levels run on the int4 kernel and 5 to 7 bits on the int8 one
/// (`kernelBits`), which only costs memory, not accuracy, since the levels fit.
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
  /// The widths the file can store.
  public static let storableBits = 2...8
  /// The largest level, 2^(bits−1) − 1: 127 for 8 bits, 7 for 4, 3 for 3, 1 for 2 (symmetric;
  /// −2^(bits−1) is never produced, so int2 is ternary).
  public static func maxLevel(bits: Int) -> Int { (1 << (bits - 1)) - 1 }
  /// The width of the kernel these levels run on: 4 up to 4 bits, else 8.
  public var kernelBits: Int { bits <= 4 ? 4 : 8 }

  /// `values` holds one level per weight, row-major [rows, columns].
  public init(values: [Int8], rows: Int, columns: Int, bits: Int, groupSize: Int, scales: [Float]) {
    precondition(Self.storableBits.contains(bits), "bits must lie in 2...8")
    precondition(groupSize > 0 && groupSize % 32 == 0, "group size must be a multiple of 32")
    precondition(values.count == rows * columns && scales.count == rows * ((columns + groupSize - 1) / groupSize))
    self.rows = rows
    self.columns = columns
    self.bits = bits
    self.groupSize = groupSize
    self.scales = scales
    switch bits {
    case 8: stored = .int8(Tensor(shape: [rows, columns], scalars: values))
    case 4:
      stored = .uint8(
        Tensor(shape: [rows, (columns + 1) / 2], scalars: Self.packNibbles(values, rows: rows, columns: columns)))
    default:
      stored = .uint8(
        Tensor(
          shape: [rows, Self.packedRowBytes(columns: columns, bits: bits)],
          scalars: Self.packBits(values, rows: rows, columns: columns, bits: bits)))
    }
    let kernel = bits <= 4 ? 4 : 8
    let size = max(lk_wq_row_bytes(Int32(columns), Int32(kernel), Int32(groupSize)) * rows, 64)
    let packed = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    values.withUnsafeBufferPointer {
      lk_wq_pack($0.baseAddress!, Int32(rows), Int32(columns), Int32(kernel), Int32(groupSize), packed)
    }
    var offsets = [Float](repeating: 0, count: rows)
    lk_wq_row_offsets(packed, Int32(rows), Int32(columns), Int32(kernel), Int32(groupSize), scales, &offsets)
    self.packed = packed
    rowOffsets = offsets
  }

  deinit { packed.deallocate() }

  /// Quantizes an fp32 weight [out, k] to nearest (RTN): each group gets scale = max|w| /
  /// maxLevel and levels round(w / scale) (to nearest, ties to even, as lk_quantize_s8 rounds).
  public convenience init(quantizing weight: Tensor<Float>, bits: Int, groupSize: Int) {
    self.init(quantizing: weight, bits: bits, groupSize: groupSize, clip: nil)
  }

  /// RTN with each group's bound max|w| multiplied by `clip[row * groups + group]` (AWQ's
  /// clipping: a smaller bound rounds the many small weights finer and clamps the few large).
  convenience init(quantizing weight: Tensor<Float>, bits: Int, groupSize: Int, clip: [Float]?) {
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
        let bound = w[range].reduce(Float(0)) { max($0, abs($1)) } * (clip?[r * groups + g] ?? 1)
        let scale = Self.scale(bound: bound, bits: bits)
        scales[r * groups + g] = scale
        for i in range { q[i] = Self.level(w[i], scale: scale, top: top) }
      }
    }
    self.init(values: q, rows: rows, columns: columns, bits: bits, groupSize: groupSize, scales: scales)
  }

  /// A group's scale for the largest magnitude `bound` it must reach (never zero).
  static func scale(bound: Float, bits: Int) -> Float { max(bound, 1e-8) / Float(maxLevel(bits: bits)) }

  /// The level of `w` at `scale`: round(w / scale) within ±top, as RTN computes it.
  static func level(_ w: Float, scale: Float, top: Float) -> Int8 {
    Int8(((w * (1 / scale)).rounded(.toNearestOrEven)).clamped(-top, top))
  }

  /// One level per weight, row-major (unpacked from the file form).
  public var values: [Int8] {
    switch stored {
    case .int8(let t): return t.scalars
    case .uint8(let t) where bits == 4: return Self.unpackNibbles(t.scalars, rows: rows, columns: columns)
    case .uint8(let t): return Self.unpackBits(t.scalars, rows: rows, columns: columns, bits: bits)
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

  /// Bytes of one row of `bits`-bit levels in the bit-stream form.
  public static func packedRowBytes(columns: Int, bits: Int) -> Int { (columns * bits + 7) / 8 }

  /// The bit-stream form of widths other than 4 and 8: each row starts on a byte, its levels
  /// follow one another as q + 2^(bits−1) in `bits` bits, least significant bit first (level
  /// i of a row occupies bits i·bits ..< (i+1)·bits of the row); a row's unused last bits are 0.
  public static func packBits(_ values: [Int8], rows: Int, columns: Int, bits: Int) -> [UInt8] {
    let width = packedRowBytes(columns: columns, bits: bits)
    let bias = 1 << (bits - 1)
    var bytes = [UInt8](repeating: 0, count: rows * width)
    for r in 0..<rows {
      for c in 0..<columns {
        let code = Int(values[r * columns + c]) + bias
        for b in 0..<bits where code & (1 << b) != 0 {
          let position = c * bits + b
          bytes[r * width + position / 8] |= UInt8(1 << (position % 8))
        }
      }
    }
    return bytes
  }

  public static func unpackBits(_ bytes: [UInt8], rows: Int, columns: Int, bits: Int) -> [Int8] {
    let width = packedRowBytes(columns: columns, bits: bits)
    let bias = 1 << (bits - 1)
    var values = [Int8](repeating: 0, count: rows * columns)
    for r in 0..<rows {
      for c in 0..<columns {
        var code = 0
        for b in 0..<bits {
          let position = c * bits + b
          if bytes[r * width + position / 8] & UInt8(1 << (position % 8)) != 0 { code |= 1 << b }
        }
        values[r * columns + c] = Int8(code - bias)
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
    case (let b, .uint8(let t)) where storableBits.contains(b) && b != 8:
      let width = packedRowBytes(columns: columns, bits: b)
      guard t.shape == [rows, width] else {
        throw .shapeMismatch(parameter: "\(node).weight", expected: [rows, width], found: t.shape)
      }
      values = unpackBits(t.scalars, rows: rows, columns: columns, bits: b)
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
