import CImageCodecs
import Foundation

/// Pixels decoded from a PNG or JPEG file: 8 bits per channel, rows top to bottom, channels
/// interleaved (RGB, or one gray channel).
public struct DecodedImage: Sendable, Equatable {
  public var width: Int
  public var height: Int
  public var channels: Int
  public var pixels: [UInt8]

  public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
    precondition(pixels.count == width * height * channels, "\(pixels.count) bytes for \(width)x\(height)x\(channels)")
    (self.width, self.height, self.channels, self.pixels) = (width, height, channels, pixels)
  }
}

/// PNG and JPEG through Debian's libpng and libjpeg, via the C shim in `CImageCodecs` (which
/// keeps libjpeg's longjmp on errors inside C): a corrupt file is an error naming it, never a
/// crash. Images above `LATHE_IMAGE_MAX_PIXELS` (64 Mpixel) are refused before allocating.
public enum ImageCodec {
  public enum Format: String, Sendable { case png, jpeg }

  /// The format `bytes` start with, by magic number, whatever the file name says.
  public static func format(of bytes: [UInt8]) -> Format? {
    if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
    if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
    return nil
  }

  public static func read(from url: URL, grayscale: Bool = false) throws -> DecodedImage {
    try decode(try FileBytes.read(url), grayscale: grayscale, file: url.path)
  }

  /// Decodes to RGB (or gray when `grayscale`); alpha is dropped, as torchvision's ImageFolder
  /// loader (PIL's `convert("RGB")`) drops it.
  public static func decode(_ bytes: [UInt8], grayscale: Bool = false, file: String) throws -> DecodedImage {
    guard let format = format(of: bytes) else {
      throw LatheIOError.invalid(
        file: file, field: "image signature", expected: "PNG (89 50 4E 47 ...) or JPEG (FF D8 FF)",
        got: bytes.prefix(4).map { String(format: "%02X", $0) }.joined(separator: " "))
    }
    var image = lathe_image()
    var message = [CChar](repeating: 0, count: 256)
    let status = bytes.withUnsafeBufferPointer { buffer in
      message.withUnsafeMutableBufferPointer { text in
        let decode = format == .png ? lathe_png_decode : lathe_jpeg_decode
        return decode(buffer.baseAddress, buffer.count, grayscale ? 1 : 3, &image, text.baseAddress, text.count)
      }
    }
    guard status == 0, let pixels = image.pixels else {
      throw LatheIOError.invalid(
        file: file, field: "\(format.rawValue.uppercased()) data", expected: "a decodable image",
        got: text(message))
    }
    defer { lathe_image_free(&image) }
    let count = Int(image.width) * Int(image.height) * Int(image.channels)
    return DecodedImage(
      width: Int(image.width), height: Int(image.height), channels: Int(image.channels),
      pixels: Array(UnsafeBufferPointer(start: pixels, count: count)))
  }

  /// The image as a file of `format` (JPEG at `quality` 1-100). Lathe reads images; writing is
  /// for tests and for scripts that make fixtures.
  public static func encode(_ image: DecodedImage, as format: Format, quality: Int = 90) throws -> [UInt8] {
    guard image.channels == 1 || image.channels == 3, image.width > 0, image.height > 0 else {
      throw LatheIOError.unencodable(
        what: "a \(image.width)x\(image.height) image", reason: "\(image.channels) channels (1 or 3 can be written)")
    }
    var output: UnsafeMutablePointer<UInt8>?
    var size = 0
    var message = [CChar](repeating: 0, count: 256)
    let status = image.pixels.withUnsafeBufferPointer { pixels in
      message.withUnsafeMutableBufferPointer { text in
        format == .png
          ? lathe_png_encode(
            pixels.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels), &output, &size,
            text.baseAddress, text.count)
          : lathe_jpeg_encode(
            pixels.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels),
            Int32(max(1, min(100, quality))), &output, &size, text.baseAddress, text.count)
      }
    }
    guard status == 0, let output else {
      throw LatheIOError.unencodable(what: "a \(format.rawValue) image", reason: text(message))
    }
    defer { lathe_buffer_free(output) }
    return Array(UnsafeBufferPointer(start: output, count: size))
  }

  /// The C shim's NUL-terminated message, on one line.
  private static func text(_ message: [CChar]) -> String {
    let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).joined(separator: " ")
  }
}
