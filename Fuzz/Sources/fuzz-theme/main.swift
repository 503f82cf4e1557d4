import FuzzSupport
import LatheTUI

// Theme files: parsed onto the built-in theme (warnings, never errors), then written back and
// parsed again, which must give the same theme.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  let (theme, warnings) = ThemeFile.parse(text, name: "fuzz", file: "fuzz.theme")
  if warnings.count > ThemeFile.maxWarnings + 1 { fatalError("\(warnings.count) warnings: the cap is broken") }
  for warning in warnings where "\(warning)".contains("\n") { fatalError("multi-line warning: \(warning)") }
  let (again, _) = ThemeFile.parse(ThemeFile.format(theme), name: "fuzz")
  if again != theme { fatalError("a theme written back reads differently") }
  return 0
}
