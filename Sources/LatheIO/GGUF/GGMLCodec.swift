/// ggml's block formats, encoded and decoded as ggml's reference functions do
/// (`quantize_row_*_ref` and `dequantize_row_*` in `ggml-quants.c`), so a file Lathe writes holds
/// the bytes llama.cpp's own converter would write for the same floats.
///
/// Every block covers consecutive elements of the innermost dimension, so a tensor whose rows
/// are a whole number of blocks long is encoded as one flat run.
public enum GGMLCodec {
  /// The bytes of `values` in `type`, which must be one of `GGMLType.codable`, for a count
  /// that is a multiple of `type.blockSize`.
  public static func encode(_ values: [Float], as type: GGMLType) -> [UInt8] {
    precondition(values.count % type.blockSize == 0, "\(values.count) values are not whole \(type) blocks")
    let blocks = values.count / type.blockSize
    var out = [UInt8](repeating: 0, count: blocks * type.blockBytes)
    values.withUnsafeBufferPointer { x in
      out.withUnsafeMutableBufferPointer { y in
        for b in 0..<blocks {
          let block = UnsafeBufferPointer(rebasing: x[(b * type.blockSize)..<((b + 1) * type.blockSize)])
          let into = UnsafeMutableBufferPointer(rebasing: y[(b * type.blockBytes)..<((b + 1) * type.blockBytes)])
          switch type {
          case .f32: storeLittleEndian(block[0].bitPattern, into, at: 0)
          case .f16: storeLittleEndian(HalfFloat.bits(block[0]), into, at: 0)
          case .q80: encodeQ80(block, into)
          case .q40: encodeQ40(block, into)
          case .q4K: Q4K.encode(block, into)
          default: preconditionFailure("GGMLCodec cannot encode \(type)")
          }
        }
      }
    }
    return out
  }

  /// The floats `count` elements of `type` hold in `bytes` (exactly `count / blockSize` blocks).
  public static func decode(_ bytes: UnsafeRawBufferPointer, as type: GGMLType, count: Int) -> [Float] {
    precondition(count % type.blockSize == 0 && bytes.count == count / type.blockSize * type.blockBytes)
    var out = [Float](repeating: 0, count: count)
    out.withUnsafeMutableBufferPointer { y in
      for b in 0..<(count / type.blockSize) {
        let block = UnsafeRawBufferPointer(rebasing: bytes[(b * type.blockBytes)..<((b + 1) * type.blockBytes)])
        let into = UnsafeMutableBufferPointer(rebasing: y[(b * type.blockSize)..<((b + 1) * type.blockSize)])
        switch type {
        case .f32: into[0] = Float(bitPattern: block.loadUnaligned(as: UInt32.self).littleEndian)
        case .f16: into[0] = HalfFloat.value(block.loadUnaligned(as: UInt16.self).littleEndian)
        case .q80: decodeQ80(block, into)
        case .q40: decodeQ40(block, into)
        case .q4K: Q4K.decode(block, into)
        default: preconditionFailure("GGMLCodec cannot decode \(type)")
        }
      }
    }
    return out
  }

  public static func decode(_ bytes: [UInt8], as type: GGMLType, count: Int) -> [Float] {
    bytes.withUnsafeBytes { decode($0, as: type, count: count) }
  }

  /// Q8_0: d = max|x| / 127 as fp16, then each x / d rounded half away from zero (`roundf`).
  static func encodeQ80(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<UInt8>) {
    var amax: Float = 0
    for v in x { amax = Swift.max(amax, abs(v)) }
    let d = amax / 127
    // The reciprocal of the float scale, not of its fp16 rounding: what the reference does.
    let id: Float = d != 0 ? 1 / d : 0
    storeLittleEndian(HalfFloat.bits(d), y, at: 0)
    for j in 0..<32 {
      y[2 + j] = UInt8(bitPattern: Int8(integer((x[j] * id).rounded(.toNearestOrAwayFromZero), in: -128...127)))
    }
  }

  static func decodeQ80(_ x: UnsafeRawBufferPointer, _ y: UnsafeMutableBufferPointer<Float>) {
    let d = HalfFloat.value(x.loadUnaligned(as: UInt16.self).littleEndian)
    for j in 0..<32 { y[j] = Float(Int8(bitPattern: x[2 + j])) * d }
  }

  /// Q4_0: d = (the element of largest magnitude, sign kept) / -8, so that element becomes
  /// level 0; each x / d + 8.5 truncated to 0...15. Byte j holds element j in its low nibble and
  /// element j + 16 in its high one.
  static func encodeQ40(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeMutableBufferPointer<UInt8>) {
    var amax: Float = 0
    var max: Float = 0
    for v in x where amax < abs(v) {
      amax = abs(v)
      max = v
    }
    let d = max / -8
    let id: Float = d != 0 ? 1 / d : 0
    storeLittleEndian(HalfFloat.bits(d), y, at: 0)
    for j in 0..<16 {
      // C's (int8_t) cast truncates toward zero; the sum lies in [0, 16.5], so MIN(15) suffices.
      let low = Swift.min(15, integer((x[j] * id + 8.5).rounded(.towardZero), in: 0...16))
      let high = Swift.min(15, integer((x[j + 16] * id + 8.5).rounded(.towardZero), in: 0...16))
      y[2 + j] = UInt8(low | high << 4)
    }
  }

  static func decodeQ40(_ x: UnsafeRawBufferPointer, _ y: UnsafeMutableBufferPointer<Float>) {
    let d = HalfFloat.value(x.loadUnaligned(as: UInt16.self).littleEndian)
    for j in 0..<16 {
      y[j] = Float(Int(x[2 + j] & 0x0f) - 8) * d
      y[j + 16] = Float(Int(x[2 + j] >> 4) - 8) * d
    }
  }

  /// An integral float as an Int clamped to `range`. The reference functions convert in C,
  /// where NaN or an out-of-range value is undefined; those only arise from scales that
  /// overflow fp16 (|x| near 10⁶ and beyond) and must not trap here.
  static func integer(_ value: Float, in range: ClosedRange<Int>) -> Int {
    guard !value.isNaN else { return 0 }
    if value <= Float(range.lowerBound) { return range.lowerBound }
    if value >= Float(range.upperBound) { return range.upperBound }
    return Int(value)
  }

  static func storeLittleEndian<T: FixedWidthInteger>(
    _ value: T, _ y: UnsafeMutableBufferPointer<UInt8>, at offset: Int
  ) {
    for i in 0..<(T.bitWidth / 8) { y[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
  }
}
