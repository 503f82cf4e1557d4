/// A 24-bit colour as written in theme files. The terminal layer maps it down to what the
/// terminal has (256 or 16 colours, or none).
public struct RGB: Hashable, Sendable, CustomStringConvertible {
  public var r: UInt8
  public var g: UInt8
  public var b: UInt8

  public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
    self.r = r
    self.g = g
    self.b = b
  }

  /// Parses "#RRGGBB" (case-insensitive); nil for anything else.
  public init?(hex: String) {
    let digits = hex.hasPrefix("#") ? hex.dropFirst() : Substring(hex)
    guard digits.count == 6, let value = UInt32(digits, radix: 16) else { return nil }
    self.init(UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff))
  }

  public var description: String {
    let hex = String((Int(r) << 16) | (Int(g) << 8) | Int(b), radix: 16)
    return "#" + String(repeating: "0", count: 6 - hex.count) + hex
  }
}

/// Text attributes that work without colour (and are all that is left under NO_COLOR).
public struct TextAttributes: OptionSet, Hashable, Sendable {
  public let rawValue: UInt8
  public init(rawValue: UInt8) { self.rawValue = rawValue }
  public static let bold = TextAttributes(rawValue: 1)
  public static let dim = TextAttributes(rawValue: 2)
  public static let reverse = TextAttributes(rawValue: 4)
  public static let underline = TextAttributes(rawValue: 8)
  public static let italic = TextAttributes(rawValue: 16)
}

/// How one cell looks: colours (nil = the terminal's default) and attributes.
public struct Style: Hashable, Sendable {
  public var foreground: RGB?
  public var background: RGB?
  public var attributes: TextAttributes

  public init(foreground: RGB? = nil, background: RGB? = nil, attributes: TextAttributes = []) {
    self.foreground = foreground
    self.background = background
    self.attributes = attributes
  }

  public static let plain = Style()

  public func with(_ extra: TextAttributes) -> Style {
    var copy = self
    copy.attributes.formUnion(extra)
    return copy
  }

  public func background(_ color: RGB?) -> Style {
    var copy = self
    copy.background = color
    return copy
  }

  public func foreground(_ color: RGB?) -> Style {
    var copy = self
    copy.foreground = color
    return copy
  }
}
