/// How many colours the terminal can show, and so how theme colours are mapped down.
public enum ColorMode: Equatable, Sendable {
  /// NO_COLOR set, or a terminal without colour: attributes only.
  case none
  /// The 16 ANSI colours.
  case ansi16
  /// The xterm 256-colour palette.
  case palette256

  /// Picks the mode from the terminal's colour count and the environment (NO_COLOR wins).
  public static func detect(colors: Int, environment: [String: String]) -> ColorMode {
    if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return .none }
    if colors >= 256 { return .palette256 }
    if colors >= 8 { return .ansi16 }
    return .none
  }

  /// The palette index for `color` in this mode, nil for none (or no colour given).
  public func index(for color: RGB?) -> Int? {
    guard let color else { return nil }
    switch self {
    case .none: return nil
    case .ansi16: return ColorMapping.ansi16(color)
    case .palette256: return ColorMapping.xterm256(color)
    }
  }
}

/// True colour to palette indices, the way btop's `src/btop_theme.cpp` does it: the nearest
/// entry of the 6x6x6 cube or the grey ramp for 256 colours; the nearest ANSI colour for 16.
public enum ColorMapping {
  /// The six levels of each channel in the xterm colour cube (indices 16...231).
  static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

  /// The usual xterm values of the 16 ANSI colours.
  static let ansiPalette: [RGB] = [
    RGB(0, 0, 0), RGB(205, 0, 0), RGB(0, 205, 0), RGB(205, 205, 0),
    RGB(0, 0, 238), RGB(205, 0, 205), RGB(0, 205, 205), RGB(229, 229, 229),
    RGB(127, 127, 127), RGB(255, 0, 0), RGB(0, 255, 0), RGB(255, 255, 0),
    RGB(92, 92, 255), RGB(255, 0, 255), RGB(0, 255, 255), RGB(255, 255, 255),
  ]

  public static func xterm256(_ color: RGB) -> Int {
    let channels = [Int(color.r), Int(color.g), Int(color.b)]
    let cube = channels.map { value in
      cubeLevels.indices.min { abs(cubeLevels[$0] - value) < abs(cubeLevels[$1] - value) }!
    }
    let cubeColor = RGB(UInt8(cubeLevels[cube[0]]), UInt8(cubeLevels[cube[1]]), UInt8(cubeLevels[cube[2]]))
    let cubeIndex = 16 + 36 * cube[0] + 6 * cube[1] + cube[2]
    // Grey ramp 232...255 runs 8, 18, ..., 238.
    let average = channels.reduce(0, +) / 3
    let greyStep = min(23, max(0, (average - 8 + 5) / 10))
    let greyLevel = UInt8(8 + 10 * greyStep)
    let grey = RGB(greyLevel, greyLevel, greyLevel)
    return distance(color, grey) < distance(color, cubeColor) ? 232 + greyStep : cubeIndex
  }

  public static func ansi16(_ color: RGB) -> Int {
    ansiPalette.indices.min { distance(color, ansiPalette[$0]) < distance(color, ansiPalette[$1]) }!
  }

  /// Squared distance, weighted for how the eye sees red, green and blue.
  static func distance(_ a: RGB, _ b: RGB) -> Int {
    let dr = Int(a.r) - Int(b.r)
    let dg = Int(a.g) - Int(b.g)
    let db = Int(a.b) - Int(b.b)
    return 3 * dr * dr + 4 * dg * dg + 2 * db * db
  }
}
