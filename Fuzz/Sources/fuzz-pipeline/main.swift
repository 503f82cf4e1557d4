import FuzzSupport
import LatheCompress

// Pipeline YAML: parsed, then every step configured by its technique (the checks `lathe run`
// makes before loading a model).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  do {
    let spec = try PipelineSpec.parse(text, file: "fuzz.yaml")
    for step in spec.steps { _ = try Techniques.make(step, file: "fuzz.yaml") }
    _ = try PipelineSpec.parse(spec.yaml(), file: "again.yaml")
  } catch {
    FuzzInput.checkOneLine(error)
  }
  return 0
}
