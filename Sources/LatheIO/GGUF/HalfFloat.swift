/// IEEE binary16 by hand, both ways (Swift's `Float16` is missing on Intel Macs). GGUF stores
/// F16 tensors and every block scale of Q8_0, Q4_0 and Q4_K in it; npy files may hold it too.
public enum HalfFloat {
  /// The binary32 value of half-precision `bits` (exact: every half is a float).
  public static func value(_ bits: UInt16) -> Float {
    let sign: Float = bits & 0x8000 != 0 ? -1 : 1
    let exponent = Int((bits >> 10) & 0x1f)
    let fraction = Float(bits & 0x3ff)
    switch exponent {
    case 0: return sign * fraction * 0x1p-24
    case 31: return fraction == 0 ? sign * .infinity : .nan
    default: return sign * (1 + fraction / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
    }
  }

  /// `value` rounded to the nearest half, ties to even (what ggml's `GGML_FP32_TO_FP16` and
  /// numpy's `astype(float16)` do): beyond 65504 it becomes infinity, below 2⁻²⁵ zero; NaN stays
  /// NaN (quiet, with the top bits of its payload).
  public static func bits(_ value: Float) -> UInt16 {
    let x = value.bitPattern
    let sign = UInt16(truncatingIfNeeded: (x >> 16) & 0x8000)
    let biased = Int((x >> 23) & 0xff)
    var mantissa = x & 0x7f_ffff
    if biased == 0xff { return sign | 0x7c00 | (mantissa != 0 ? 0x200 | UInt16(mantissa >> 13) : 0) }
    // The exponent rebiased for binary16 (bias 15 instead of 127).
    let exponent = biased - 112
    if exponent >= 31 { return sign | 0x7c00 }
    if exponent <= 0 {
      // A subnormal half (or zero): the value in units of 2⁻²⁴, rounded half to even.
      if exponent < -10 { return sign }
      mantissa |= 0x80_0000
      let shift = UInt32(14 - exponent)
      let kept = mantissa >> shift
      let rest = mantissa & ((1 << shift) - 1)
      let half = UInt32(1) << (shift - 1)
      let rounded = rest > half || (rest == half && kept & 1 == 1) ? kept + 1 : kept
      return sign | UInt16(rounded)
    }
    var result = UInt32(exponent) << 10 | mantissa >> 13
    let rest = mantissa & 0x1fff
    // A carry out of the fraction moves into the exponent: to the next binade, or to infinity.
    if rest > 0x1000 || (rest == 0x1000 && result & 1 == 1) { result += 1 }
    return sign | UInt16(result)
  }
}
