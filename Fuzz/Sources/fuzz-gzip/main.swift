import FuzzSupport
import LatheIO

// gzip streams (datasets ship gzipped), then a round trip of what decompressed.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = FuzzInput.bytes(data, size)
  do {
    let plain = try Gzip.decompress(bytes, file: "fuzz.gz")
    let again = try Gzip.decompress(Gzip.compress(plain), file: "again.gz")
    precondition(again == plain, "gzip round trip changed \(plain.count) bytes")
  } catch {
    FuzzInput.checkOneLine(error)
  }
  return 0
}
