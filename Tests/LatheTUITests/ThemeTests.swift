import XCTest

@testable import LatheTUI

final class ThemeTests: XCTestCase {
  func testParsesColoursCommentsAndEmptyValues() {
    let text = """
      # a comment
      theme[main_fg]="#FF8000"

        theme[title] = "#010203"  # trailing comment
      theme[main_bg]=""
      """
    let (theme, warnings) = ThemeFile.parse(text, name: "t")
    XCTAssertEqual(warnings, [])
    XCTAssertEqual(theme[.mainForeground], RGB(255, 128, 0))
    XCTAssertEqual(theme[.title], RGB(1, 2, 3))
    XCTAssertNil(theme[.mainBackground], "empty value means the terminal's default")
    XCTAssertEqual(theme[.ok], Theme.builtIn[.ok], "missing keys keep the built-in colour")
  }

  func testUnknownKeysAndBadColoursAreWarningsWithLineNumbers() {
    let text = """
      theme[main_fg]="#ffffff"
      theme[cpu_box]="#ffffff"
      theme[title]="#12345"
      theme[ok]="green"
      this is not a theme line
      """
    let (theme, warnings) = ThemeFile.parse(text, name: "t")
    XCTAssertEqual(warnings.map(\.line), [2, 3, 4, 5])
    XCTAssertEqual(warnings[0].message, "unknown key cpu_box")
    XCTAssertEqual(warnings[1].description, "line 3: bad colour \"#12345\" for title")
    XCTAssertEqual(theme[.title], Theme.builtIn[.title])
    XCTAssertEqual(theme[.mainForeground], RGB(255, 255, 255))
  }

  func testShippedThemesParseCleanlyAndDefaultMatchesBuiltIn() throws {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("themes")
    let library = ThemeLibrary(directory: directory)
    XCTAssertEqual(library.names(), ["default", "colorblind", "high-contrast", "light"])
    for name in library.names() {
      let (theme, warnings) = library.load(name)
      XCTAssertEqual(warnings, [], name)
      XCTAssertEqual(Set(theme.colors.keys), Set(ThemeColor.allCases), "\(name) sets every key")
    }
    XCTAssertEqual(library.load("default").0, Theme.builtIn)
  }

  func testLocateUsesEnvironmentThenWalksUp() {
    XCTAssertEqual(ThemeLibrary.locate(environment: ["LATHE_THEMES": "/tmp/x"]).directory?.path, "/tmp/x")
    XCTAssertEqual(ThemeLibrary.locate(environment: [:]).directory?.lastPathComponent, "themes")
    let missing = ThemeLibrary(directory: nil)
    XCTAssertEqual(missing.names(), ["default"])
    XCTAssertEqual(missing.load("default").0, .builtIn)
    XCTAssertEqual(missing.load("light").1.count, 1)
  }

  func testMapsTo256Colours() {
    XCTAssertEqual(ColorMapping.xterm256(RGB(255, 0, 0)), 196)
    XCTAssertEqual(ColorMapping.xterm256(RGB(0, 0, 0)), 16)
    XCTAssertEqual(ColorMapping.xterm256(RGB(255, 255, 255)), 231)
    XCTAssertEqual(ColorMapping.xterm256(RGB(0x80, 0x80, 0x80)), 244, "greys use the grey ramp")
    XCTAssertEqual(ColorMapping.xterm256(RGB(0x5f, 0x87, 0xaf)), 16 + 36 * 1 + 6 * 2 + 3)
  }

  func testMapsTo16Colours() {
    XCTAssertEqual(ColorMapping.ansi16(RGB(250, 10, 10)), 9)
    XCTAssertEqual(ColorMapping.ansi16(RGB(0, 0, 0)), 0)
    XCTAssertEqual(ColorMapping.ansi16(RGB(252, 252, 252)), 15)
    XCTAssertEqual(ColorMapping.ansi16(RGB(225, 225, 225)), 7)
    XCTAssertEqual(ColorMapping.ansi16(RGB(0, 180, 0)), 2)
  }

  func testColorModeHonoursNoColor() {
    XCTAssertEqual(ColorMode.detect(colors: 256, environment: ["NO_COLOR": "1"]), .none)
    XCTAssertEqual(ColorMode.detect(colors: 256, environment: [:]), .palette256)
    XCTAssertEqual(ColorMode.detect(colors: 8, environment: [:]), .ansi16)
    XCTAssertEqual(ColorMode.detect(colors: 0, environment: [:]), .none)
    XCTAssertNil(ColorMode.none.index(for: RGB(1, 2, 3)))
  }

  func testFormatRoundTrips() {
    let (theme, warnings) = ThemeFile.parse(ThemeFile.format(.builtIn), name: "default")
    XCTAssertEqual(warnings, [])
    XCTAssertEqual(theme, .builtIn)
  }
}
