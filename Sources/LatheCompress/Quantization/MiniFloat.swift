import Foundation

/// The small floating-point element formats of FP8 and FP4 weights, decoded from their bit
/// layout and encoded by rounding to the nearest value, ties to the even code, saturating at
/// the largest finite value (the OCP 8-bit floating point spec's "saturate" conversion, as
/// PyTorch's float8 casts with saturation and NVIDIA's Transformer Engine do):
/// - E4M3 ("E4M3FN", OCP OFP8): bias 7, no infinities, NaN only S.1111.111, max 448, smallest
///   subnormal 2^-9.
/// - E5M2 (OCP OFP8, IEEE-like: the top byte of an IEEE half): bias 15, S.11111.00 infinity,
///   S.11111.xx (xx ≠ 0) NaN, max 57344, smallest subnormal 2^-16.
/// - E2M1 (OCP MX FP4): bias 1, no infinities or NaN; values 0, 0.5, 1, 1.5, 2, 3, 4, 6.
public struct MiniFloat: Sendable, Equatable {
  public let exponentBits: Int
  public let mantissaBits: Int
  public let bias: Int
  /// Whether the all-ones exponent holds infinities and NaNs (IEEE style, E5M2) rather than
  /// normal numbers (E4M3, where only the all-ones code is NaN, and E2M1, with no NaN).
  public let ieeeSpecials: Bool
  /// Whether the all-ones code (per sign) is NaN (E4M3).
  public let allOnesIsNaN: Bool

  public static let e4m3 = MiniFloat(exponentBits: 4, mantissaBits: 3, bias: 7, ieeeSpecials: false, allOnesIsNaN: true)
  public static let e5m2 = MiniFloat(
    exponentBits: 5, mantissaBits: 2, bias: 15, ieeeSpecials: true, allOnesIsNaN: false)
  public static let e2m1 = MiniFloat(
    exponentBits: 2, mantissaBits: 1, bias: 1, ieeeSpecials: false, allOnesIsNaN: false)

  public var bits: Int { 1 + exponentBits + mantissaBits }
  var signBit: Int { 1 << (exponentBits + mantissaBits) }

  /// The value of `code` (its low `bits` bits) from the layout: sign, exponent, mantissa;
  /// exponent 0 is subnormal (2^(1 − bias) · m / 2^M).
  public func decode(_ code: UInt8) -> Float {
    let c = Int(code) & ((1 << bits) - 1)
    let sign: Float = c & signBit != 0 ? -1 : 1
    let e = (c >> mantissaBits) & ((1 << exponentBits) - 1)
    let m = c & ((1 << mantissaBits) - 1)
    let allOnes = (1 << exponentBits) - 1
    if ieeeSpecials && e == allOnes { return m == 0 ? sign * .infinity : .nan }
    if allOnesIsNaN && e == allOnes && m == (1 << mantissaBits) - 1 { return .nan }
    let fraction = Float(m) / Float(1 << mantissaBits)
    if e == 0 { return sign * Float(sign: .plus, exponent: 1 - bias, significand: fraction) }
    return sign * Float(sign: .plus, exponent: e - bias, significand: 1 + fraction)
  }

  /// The largest finite value's code (positive sign).
  public var maxCode: UInt8 {
    let all = (1 << (bits - 1)) - 1  // every bit but the sign
    if ieeeSpecials { return UInt8(all - (1 << mantissaBits)) }  // S.11110.11
    return UInt8(allOnesIsNaN ? all - 1 : all)
  }

  public var maxValue: Float { decode(maxCode) }

  /// The code of a NaN (E4M3 and E5M2), nil where the format has none (E2M1).
  public var nanCode: UInt8? { ieeeSpecials || allOnesIsNaN ? UInt8((1 << (bits - 1)) - 1) : nil }

  /// Every non-negative finite value by code, 0...maxCode (increasing with the code).
  private var magnitudes: [Float] { (0...Int(maxCode)).map { decode(UInt8($0)) } }

  /// `x` rounded to the nearest value, ties to the code with an even last bit, saturating at
  /// ±max (infinities too); NaN becomes the NaN code, or 0 where there is none.
  public func encode(_ x: Float) -> UInt8 { Encoder(self).encode(x) }

  /// An encoder with the value table built once, for whole tensors.
  public struct Encoder: Sendable {
    let format: MiniFloat
    let table: [Float]

    public init(_ format: MiniFloat) {
      self.format = format
      table = format.magnitudes
    }

    public func encode(_ x: Float) -> UInt8 {
      if x.isNaN { return format.nanCode ?? 0 }
      let sign = x.sign == .minus ? UInt8(format.signBit) : 0
      let a = abs(x)
      if a >= table[table.count - 1] { return sign | UInt8(table.count - 1) }
      // The first code whose value is >= a, then the nearer of it and the one below.
      var (lo, hi) = (0, table.count - 1)
      while lo < hi {
        let mid = (lo + hi) / 2
        if table[mid] < a { lo = mid + 1 } else { hi = mid }
      }
      guard lo > 0 else { return sign }
      let (below, above) = (table[lo - 1], table[lo])
      let code: Int
      if a - below < above - a {
        code = lo - 1
      } else if a - below > above - a {
        code = lo
      } else {
        code = (lo - 1) % 2 == 0 ? lo - 1 : lo
      }
      // −0 stays a distinct code only where it carries meaning; a zero result is +0.
      return code == 0 ? 0 : sign | UInt8(code)
    }
  }
}
