import Foundation
import FuzzSupport
import LatheIO
import LatheONNX
import LatheWorkspace

// A model file opened the way the CLI opens it (ModelOpener: safetensors with every layer
// builder, compressed layers included), then shape-checked; and the header-only tensor listing
// `lathe inspect` shows for safetensors files that are not Lathe models.
private let url = FuzzInput.scratchURL(extension: "safetensors")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  FuzzInput.write(data, size, to: url)
  do {
    _ = try SafetensorsListing.read(from: url)
  } catch {
    FuzzInput.checkOneLine(error)
  }
  do {
    let model = try ModelOpener.open(url)
    _ = try model.checkShapes()
  } catch {
    FuzzInput.checkOneLine(error)
  }
  return 0
}
