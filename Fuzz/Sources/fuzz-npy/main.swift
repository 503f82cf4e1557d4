import FuzzSupport
import LatheIO

// .npy arrays and .npz archives (the zip reader under them), then the file as `--dataset`
// loads it. A decoded array that can be written must read back bit for bit.
private let npyURL = FuzzInput.scratchURL(extension: "npy")
private let npzURL = FuzzInput.scratchURL(extension: "npz")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = FuzzInput.bytes(data, size)
  do {
    let array = try NumpyArray.decode(bytes, file: "fuzz.npy")
    if let again = try? NumpyArray.decode(try array.encoded(), file: "again.npy") {
      precondition(again.shape == array.shape, "npy round trip changed the shape")
      precondition(again.values.map(\.bitPattern) == array.values.map(\.bitPattern), "npy round trip changed values")
    }
  } catch {
    FuzzInput.checkOneLine(error)
  }
  do {
    _ = try NumpyArchive.decode(bytes, file: "fuzz.npz")
  } catch {
    FuzzInput.checkOneLine(error)
  }
  let url = ZipArchive.isZip(bytes) ? npzURL : npyURL
  FuzzInput.write(data, size, to: url)
  do {
    _ = try DatasetCatalog.loadNumpy(url)
  } catch {
    FuzzInput.checkOneLine(error)
  }
  return 0
}
