import Foundation
import FuzzSupport
import LatheTUI

// The workbench's remembered state (settings.json, recent.json and tutorials.json in the state
// folder): the same bytes as each file. A file that does not read gives defaults and one warning
// line, never a crash; one that reads is written back and must read the same.
let folder = StateFolder(
  url: FileManager.default.temporaryDirectory.appendingPathComponent("lathe-fuzz-state-\(getpid())"))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Data(bytes: data, count: size)
  try? FileManager.default.createDirectory(at: folder.url, withIntermediateDirectories: true)
  for name in ["settings.json", "recent.json", "tutorials.json"] {
    try? bytes.write(to: folder.file(name))
  }
  let memory = WorkbenchMemory(folder: folder)
  let (settings, settingsWarning) = memory.settings()
  let (recent, recentWarning) = memory.recent()
  for warning in [settingsWarning, recentWarning].compactMap({ $0 }) where warning.contains("\n") {
    fatalError("multi-line warning: \(warning)")
  }
  if settingsWarning == nil {
    try? memory.save(settings)
    if memory.settings().0 != settings { fatalError("settings written back read differently") }
  }
  if recentWarning == nil {
    try? memory.save(recent)
    if memory.recent().0 != recent { fatalError("recent files written back read differently") }
  }
  _ = TutorialProgressStore(url: folder.file("tutorials.json")).load()
  return 0
}
