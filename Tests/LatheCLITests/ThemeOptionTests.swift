import Foundation
import XCTest

/// `--theme` with a name that is no theme is refused before anything loads (no terminal, model
/// or session needed), and the refusal lists the themes there are.
extension CommandLineTests {
  func testUnknownThemeIsAnErrorListingTheThemes() throws {
    for arguments in [["--theme", "nosuch"], ["workbench", "--theme", "nosuch"], ["tutorial", "--theme", "nosuch"]] {
      let outcome = try lathe(arguments)
      XCTAssertNotEqual(outcome.status, 0, "\(arguments)")
      XCTAssertTrue(
        outcome.stderr.contains(
          "--theme: unknown theme \"nosuch\"; the themes are default, colorblind, high-contrast, light"),
        "\(arguments): \(outcome.stderr)")
    }
  }

  func testAKnownThemeOrThemeFileIsAccepted() throws {
    // Without a terminal the workbench does not open; what matters is that the theme passed.
    for theme in ["light", "themes/high-contrast.theme"] {
      let outcome = try lathe("--theme", theme)
      XCTAssertFalse(outcome.stderr.contains("theme"), "\(theme): \(outcome.stderr)")
    }
  }
}
