import FuzzSupport
import LatheIO

// PNG and JPEG through libpng and libjpeg (the C shim's error handling), in colour and gray.
// A PNG that decodes must survive an encode and decode unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = FuzzInput.bytes(data, size)
  for grayscale in [false, true] {
    do {
      let image = try ImageCodec.decode(bytes, grayscale: grayscale, file: "fuzz.img")
      if ImageCodec.format(of: bytes) == .png, image.width * image.height <= 1 << 16 {
        let again = try ImageCodec.decode(try ImageCodec.encode(image, as: .png), grayscale: grayscale, file: "again")
        precondition(again == image, "PNG round trip changed the pixels")
      }
    } catch {
      FuzzInput.checkOneLine(error)
    }
  }
  return 0
}
