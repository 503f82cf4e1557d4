/// How many terminal columns a character takes. Our own table rather than `wcwidth`, which
/// depends on the process locale and answers -1 for everything non-ASCII under "C" (tests).
enum CharacterWidth {
  static func of(_ scalar: Unicode.Scalar) -> Int {
    let v = scalar.value
    if v < 0x300 { return v < 0x20 || (v >= 0x7f && v < 0xa0) ? 0 : 1 }
    if (0x300...0x36f).contains(v) || (0x200b...0x200f).contains(v) || (0xfe00...0xfe0f).contains(v) {
      return 0
    }
    if (0x1100...0x115f).contains(v) || (0x2e80...0xa4cf).contains(v) || (0xac00...0xd7a3).contains(v)
      || (0xf900...0xfaff).contains(v) || (0xfe30...0xfe4f).contains(v) || (0xff00...0xff60).contains(v)
      || (0xffe0...0xffe6).contains(v) || (0x1f300...0x1f64f).contains(v) || (0x1f900...0x1f9ff).contains(v)
      || (0x20000...0x3fffd).contains(v)
    {
      return 2
    }
    return 1
  }

  /// Columns taken by a whole string.
  static func of(_ text: String) -> Int {
    var total = 0
    for scalar in text.unicodeScalars { total += of(scalar) }
    return total
  }
}
