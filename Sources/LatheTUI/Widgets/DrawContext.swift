/// What every widget needs besides its data: colours, glyphs and a frame counter (spinners).
public struct DrawContext: Sendable {
  public var theme: Theme
  public var glyphs: Glyphs
  /// Counts frames drawn while work runs; spinners advance with it.
  public var tick: Int

  public init(theme: Theme, glyphs: Glyphs, tick: Int = 0) {
    self.theme = theme
    self.glyphs = glyphs
    self.tick = tick
  }

  public func style(_ role: ThemeColor, _ attributes: TextAttributes = []) -> Style {
    theme.style(role, on: .mainBackground, attributes)
  }

  /// Plain text on the main background.
  public var text: Style { theme.text }

  public var spinner: Unicode.Scalar { glyphs.spinner[tick % glyphs.spinner.count] }
}
