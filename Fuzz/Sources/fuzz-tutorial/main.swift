import FuzzSupport
import LatheTUI

// Tutorial files: parsed with every step, placeholder and check validated, as the workbench
// does before it shows the first page.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  do {
    _ = try TutorialFile.parse(text, file: "fuzz.yaml", name: "fuzz")
  } catch {
    FuzzInput.checkOneLine(error)
  }
  return 0
}
