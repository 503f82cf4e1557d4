import FuzzSupport
import LatheIO

// IDX arrays (MNIST-style images and labels), plain or gzipped, from a file as datasets load them.
private let url = FuzzInput.scratchURL(extension: "idx")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  do {
    _ = try IDX.decode(FuzzInput.bytes(data, size), file: "fuzz.idx")
  } catch {
    FuzzInput.checkOneLine(error)
  }
  FuzzInput.write(data, size, to: url)
  do {
    _ = try IDX.read(from: url)
  } catch {
    FuzzInput.checkOneLine(error)
  }
  return 0
}
