/// A named set of colours for the roles in `ThemeColor`. A role without a colour uses the
/// terminal's own default (btop's empty value), which is also what NO_COLOR ends up with.
public struct Theme: Equatable, Sendable {
  public var name: String
  public private(set) var colors: [ThemeColor: RGB]

  public init(name: String, colors: [ThemeColor: RGB]) {
    self.name = name
    self.colors = colors
  }

  public subscript(role: ThemeColor) -> RGB? {
    get { colors[role] }
    set { colors[role] = newValue }
  }

  /// Text in `role` colour on the main background (or a given background role).
  public func style(_ role: ThemeColor, on background: ThemeColor = .mainBackground, _ attributes: TextAttributes = [])
    -> Style
  {
    Style(foreground: colors[role], background: colors[background], attributes: attributes)
  }

  /// Plain text on the main background.
  public var text: Style { style(.mainForeground) }

  /// The theme compiled in, used when no theme folder is found; same as `themes/default.theme`.
  public static let builtIn = Theme(
    name: "default",
    colors: [
      .mainBackground: RGB(0x1a, 0x1b, 0x26), .mainForeground: RGB(0xc0, 0xca, 0xf5),
      .title: RGB(0xee, 0xee, 0xee), .highlight: RGB(0xff, 0x9e, 0x64),
      .selectedBackground: RGB(0x2f, 0x3b, 0x63), .selectedForeground: RGB(0xff, 0xff, 0xff),
      .inactive: RGB(0x56, 0x5f, 0x89), .border: RGB(0x3b, 0x42, 0x61), .focusBorder: RGB(0x7a, 0xa2, 0xf7),
      .graphText: RGB(0x86, 0x8f, 0xb8), .meterBackground: RGB(0x29, 0x2e, 0x42),
      .statusBackground: RGB(0x24, 0x28, 0x3b), .statusForeground: RGB(0xa9, 0xb1, 0xd6),
      .ok: RGB(0x9e, 0xce, 0x6a), .warning: RGB(0xe0, 0xaf, 0x68), .error: RGB(0xf7, 0x76, 0x8e),
      .running: RGB(0x7d, 0xcf, 0xff), .accuracy: RGB(0x9e, 0xce, 0x6a), .size: RGB(0x7a, 0xa2, 0xf7),
      .latency: RGB(0xbb, 0x9a, 0xf7), .loss: RGB(0xf7, 0x76, 0x8e), .pareto: RGB(0xff, 0x9e, 0x64),
      .histogramBefore: RGB(0x56, 0x5f, 0x89), .histogramAfter: RGB(0x7d, 0xcf, 0xff),
      .sparsity: RGB(0x2a, 0xc3, 0xde),
    ])
}
