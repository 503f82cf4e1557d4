import CZlib
import Foundation

/// Gzip through zlib: datasets ship as `.gz`, and Lathe writes them byte-reproducibly (zlib's
/// gzip header carries no file name and a zero timestamp).
public enum Gzip {
  /// True when `data` starts with the gzip magic bytes 1f 8b.
  public static func isGzipped(_ data: [UInt8]) -> Bool {
    data.count >= 2 && data[0] == 0x1f && data[1] == 0x8b
  }

  /// The decompressed bytes of a gzip (or zlib) stream. Concatenated gzip members, as written by
  /// `cat a.gz b.gz`, decompress to the concatenation, like `gunzip` does.
  public static func decompress(_ data: [UInt8], file: String) throws -> [UInt8] {
    var stream = z_stream()
    // 15 + 32: the largest window, and detect the gzip or zlib header automatically.
    guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK
    else {
      throw LatheIOError.unreadable(file: file, reason: "zlib could not start inflating")
    }
    defer { inflateEnd(&stream) }

    var output: [UInt8] = []
    output.reserveCapacity(data.count * 4)
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    return try data.withUnsafeBufferPointer { input -> [UInt8] in
      var consumed = 0
      while true {
        // zlib counts in 32 bits; feed at most 1 GiB at a time.
        let available = min(input.count - consumed, 1 << 30)
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress.map { $0 + consumed })
        stream.avail_in = uInt(available)
        let status = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
          stream.next_out = out.baseAddress
          stream.avail_out = uInt(out.count)
          return inflate(&stream, Z_NO_FLUSH)
        }
        let produced = chunk.count - Int(stream.avail_out)
        output.append(contentsOf: chunk[0..<produced])
        consumed += available - Int(stream.avail_in)

        switch status {
        case Z_STREAM_END:
          // Another member may follow; anything else after the stream is an error.
          if consumed == input.count { return output }
          if input.count - consumed >= 2 && input[consumed] == 0x1f && input[consumed + 1] == 0x8b {
            inflateReset(&stream)
            continue
          }
          throw corrupt(
            file, "\(input.count - consumed) stray bytes after the end of the gzip stream")
        case Z_OK:
          continue
        case Z_BUF_ERROR:
          // No progress possible: zlib needs input we do not have.
          if consumed == input.count && produced == 0 {
            throw corrupt(file, "the gzip stream is truncated")
          }
          continue
        default:
          let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
          throw corrupt(file, message)
        }
      }
    }
  }

  /// `data` as a gzip stream at the default compression level, with a zero timestamp.
  public static func compress(_ data: [UInt8]) -> [UInt8] {
    var stream = z_stream()
    // 15 + 16: the largest window, with a gzip header and trailer instead of zlib's.
    let status = deflateInit2_(
      &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
      Int32(MemoryLayout<z_stream>.size))
    // Only fails without memory or on invalid constant parameters; neither comes from input.
    precondition(status == Z_OK, "deflateInit2 failed with \(status)")
    defer { deflateEnd(&stream) }

    var output: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    data.withUnsafeBufferPointer { input in
      var consumed = 0
      while true {
        let available = min(input.count - consumed, 1 << 30)
        let last = consumed + available == input.count
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress.map { $0 + consumed })
        stream.avail_in = uInt(available)
        var result: Int32
        repeat {
          result = chunk.withUnsafeMutableBufferPointer { out -> Int32 in
            stream.next_out = out.baseAddress
            stream.avail_out = uInt(out.count)
            return deflate(&stream, last ? Z_FINISH : Z_NO_FLUSH)
          }
          output.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
        } while stream.avail_out == 0 || (last && result != Z_STREAM_END)
        consumed += available - Int(stream.avail_in)
        if last { return }
      }
    }
    return output
  }

  /// The bytes of a file, decompressed when the file is gzipped (whatever its name says).
  public static func readMaybeCompressed(_ url: URL) throws -> [UInt8] {
    let bytes = try FileBytes.read(url)
    return isGzipped(bytes) ? try decompress(bytes, file: url.path) : bytes
  }

  private static func corrupt(_ file: String, _ reason: String) -> LatheIOError {
    .invalid(file: file, field: "gzip data", expected: "a valid gzip stream", got: reason)
  }
}
