import FuzzSupport
import LatheIO

// CSV datasets: a header, numeric features and an integer label per row.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  do {
    _ = try CSVDataset.decode(FuzzInput.bytes(data, size), file: "fuzz.csv")
  } catch {
    FuzzInput.checkOneLine(error)
  }
  return 0
}
