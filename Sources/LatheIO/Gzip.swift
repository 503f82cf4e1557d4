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
    // 15 + 32: the largest window, and detect the gzip or zlib header automatically.
    try inflated(data, windowBits: 15 + 32, limit: Int.max, file: file)
  }

  /// The bytes of a raw deflate stream (no header, as zip members hold them), refusing to
  /// produce more than `limit` bytes so a zip's lying size field cannot exhaust memory.
  public static func inflateRaw(_ data: [UInt8], limit: Int, file: String) throws -> [UInt8] {
    try inflated(data, windowBits: -15, limit: limit, file: file)
  }

  /// `data` as a raw deflate stream (no header or trailer), as zip members store it.
  public static func deflateRaw(_ data: [UInt8]) -> [UInt8] { compress(data, windowBits: -15) }

  private static func inflated(_ data: [UInt8], windowBits: Int32, limit: Int, file: String) throws -> [UInt8] {
    // Zip members are raw deflate streams: name them so, not gzip.
    let format = windowBits < 0 ? "deflate" : "gzip"
    func corrupt(_ file: String, _ reason: String) -> LatheIOError {
      .invalid(file: file, field: "\(format) data", expected: "a valid \(format) stream", got: reason)
    }
    var stream = z_stream()
    guard inflateInit2_(&stream, windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK
    else {
      throw LatheIOError.unreadable(file: file, reason: "zlib could not start inflating")
    }
    defer { inflateEnd(&stream) }

    var output: [UInt8] = []
    output.reserveCapacity(min(data.count * 4, limit))
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
        if output.count > limit { throw corrupt(file, "more than the \(limit) bytes the header promises") }

        switch status {
        case Z_STREAM_END:
          // Another member may follow; anything else after the stream is an error.
          if consumed == input.count { return output }
          if windowBits > 0 && input.count - consumed >= 2 && input[consumed] == 0x1f && input[consumed + 1] == 0x8b {
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
            throw corrupt(file, "the \(format) stream is truncated")
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
    // 15 + 16: the largest window, with a gzip header and trailer instead of zlib's.
    compress(data, windowBits: 15 + 16)
  }

  private static func compress(_ data: [UInt8], windowBits: Int32) -> [UInt8] {
    var stream = z_stream()
    let status = deflateInit2_(
      &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
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
}
