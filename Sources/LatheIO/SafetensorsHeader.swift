import Foundation
import LatheTensor

/// The validated header of a safetensors file: where each tensor's bytes are, and the metadata.
/// Every length, offset and shape is checked before any tensor is built, so a damaged or
/// hostile file produces an error, never a crash or an out-of-bounds read.
struct SafetensorsHeader {
  struct Entry {
    var name: String
    /// The dtype as the file names it: any of `SafetensorsDType.bits`.
    var dtypeName: String
    /// The engine's type for it; nil when the header was read for listing only and Lathe
    /// cannot load this dtype.
    var dtype: DType?
    var shape: [Int]
    /// Elements in the tensor (the shape's product, checked not to overflow).
    var elements: Int
    var begin: Int
    var end: Int
  }

  /// Entries sorted by data offset.
  var entries: [Entry]
  var metadata: [String: String]
  /// Where the data section starts in the file.
  var dataStart: Int

  /// The reference implementation refuses headers over 100 MB; a larger length means damage.
  static let maximumHeaderLength = 100_000_000

  /// Parses the header of a whole file's bytes, refusing dtypes Lathe cannot load.
  static func parse(_ bytes: [UInt8], file: String) throws -> SafetensorsHeader {
    let length = try headerLength(bytes.prefix(8), fileSize: bytes.count, file: file)
    return try parse(
      header: bytes[8..<(8 + length)], dataCount: bytes.count - 8 - length, file: file, loadable: true)
  }

  /// Reads only the header of the file at `url` (the data section is never read) and accepts
  /// every dtype of the format: what `inspect` needs to list any safetensors file.
  static func read(headerOf url: URL) throws -> SafetensorsHeader {
    let fd = open(url.path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw LatheIOError.unreadable(file: url.path, reason: String(cString: strerror(errno))) }
    let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    do {
      let size = Int(try handle.seekToEnd())
      try handle.seek(toOffset: 0)
      let first = [UInt8](try handle.read(upToCount: 8) ?? Data())
      let length = try headerLength(first[...], fileSize: size, file: url.path)
      let header = [UInt8](try handle.read(upToCount: length) ?? Data())
      guard header.count == length else {
        throw LatheIOError.unreadable(file: url.path, reason: "the file shrank while it was read")
      }
      return try parse(header: header[...], dataCount: size - 8 - length, file: url.path, loadable: false)
    } catch let error as LatheIOError {
      throw error
    } catch {
      throw LatheIOError.unreadable(file: url.path, reason: "\(error.localizedDescription)")
    }
  }

  /// The header length in the first 8 bytes, checked against the file's size.
  private static func headerLength(_ first: ArraySlice<UInt8>, fileSize: Int, file: String) throws -> Int {
    guard first.count >= 8 else {
      throw LatheIOError.invalid(
        file: file, field: "header length (first 8 bytes)",
        expected: "an 8-byte little-endian length",
        got: "a \(fileSize)-byte file")
    }
    var length: UInt64 = 0
    for (i, byte) in first.prefix(8).enumerated() { length |= UInt64(byte) << UInt64(8 * i) }
    guard length <= UInt64(min(fileSize - 8, maximumHeaderLength)) else {
      throw LatheIOError.invalid(
        file: file, field: "header length (first 8 bytes)",
        expected:
          "at most \(min(fileSize - 8, maximumHeaderLength)) bytes (the file has \(fileSize) bytes)",
        got: "\(length)")
    }
    return Int(length)
  }

  /// Parses the JSON header; `dataCount` is the size of the data section after it, and
  /// `loadable` refuses dtypes the engine has no type for.
  private static func parse(
    header headerBytes: ArraySlice<UInt8>, dataCount: Int, file: String, loadable: Bool
  ) throws -> SafetensorsHeader {
    let length = headerBytes.count
    let dataStart = 8 + length
    let object: Any
    do {
      object = try JSONSerialization.jsonObject(with: Data(headerBytes))
    } catch {
      throw LatheIOError.invalid(
        file: file, field: "header", expected: "a JSON object",
        got: "\(length) bytes that are not valid JSON")
    }
    guard let fields = object as? [String: Any] else {
      throw LatheIOError.invalid(
        file: file, field: "header", expected: "a JSON object", got: JSONText.describe(object))
    }

    let context = Context(file: file, dataCount: dataCount, loadable: loadable)
    var entries: [(entry: Entry, position: Int)] = []
    var seen = Set<String>()
    for (position, name) in JSONText.topLevelKeys(headerBytes).enumerated() {
      guard seen.insert(name).inserted else {
        throw LatheIOError.invalid(
          file: file, field: "header field \(JSONText.quoted(name))", expected: "each name once",
          got: "it more than once")
      }
      guard name != "__metadata__", let value = fields[name] else { continue }
      entries.append((try context.entry(name, value), position))
    }
    // Order by offset; zero-byte tensors share an offset, so keep header order among ties.
    entries.sort {
      ($0.entry.begin, $0.entry.end, $0.position) < ($1.entry.begin, $1.entry.end, $1.position)
    }
    let sorted = entries.map(\.entry)
    try context.checkContiguous(sorted)
    return SafetensorsHeader(
      entries: sorted, metadata: try context.metadata(fields["__metadata__"]), dataStart: dataStart)
  }

  /// What every check needs to word its error.
  private struct Context {
    var file: String
    var dataCount: Int
    var loadable: Bool

    func fail(_ field: String, expected: String, got: String) -> LatheIOError {
      .invalid(
        file: file, field: "header field \(JSONText.quoted(field))", expected: expected, got: got)
    }

    func entry(_ name: String, _ value: Any) throws -> Entry {
      guard let info = value as? [String: Any] else {
        throw fail(
          name, expected: "an object with dtype, shape and data_offsets",
          got: JSONText.describe(value))
      }
      let (dtypeName, bits) = try self.dtype(name, info["dtype"])
      let shape = try self.shape(name, info["shape"])
      let (begin, end) = try offsets(name, info["data_offsets"])

      var count = 1
      var overflow = false
      for dimension in shape where !overflow {
        (count, overflow) = count.multipliedReportingOverflow(by: dimension)
      }
      // In bits: F4 and F6 pack elements, and a tensor of them must fill whole bytes.
      let (bitCount, bitOverflow) = count.multipliedReportingOverflow(by: bits)
      let shapeText = "[" + shape.map(String.init).joined(separator: ", ") + "]"
      guard !overflow, !bitOverflow, bitCount % 8 == 0, bitCount / 8 == end - begin else {
        let wanted =
          overflow || bitOverflow
          ? "more bytes than fit in memory"
          : bitCount % 8 != 0 ? "whole bytes (\(bitCount) bits is not)" : "\(bitCount / 8) bytes"
        throw fail(
          name + ".data_offsets",
          expected: "a range of \(wanted) (shape \(shapeText) of \(dtypeName))",
          got: "[\(begin), \(end)] (\(end - begin) bytes)")
      }
      return Entry(
        name: name, dtypeName: dtypeName, dtype: DType(rawValue: dtypeName), shape: shape, elements: count,
        begin: begin, end: end)
    }

    /// The dtype's name and its size in bits.
    private func dtype(_ name: String, _ value: Any?) throws -> (String, Int) {
      let supported = loadable ? DType.allCases.map(\.rawValue) : SafetensorsDType.names
      guard let value else {
        throw fail(name + ".dtype", expected: "a dtype such as \"F32\"", got: "no such field")
      }
      guard let text = value as? String else {
        throw fail(
          name + ".dtype", expected: "a dtype string such as \"F32\"", got: JSONText.describe(value)
        )
      }
      guard let bits = SafetensorsDType.bits[text], !loadable || DType(rawValue: text) != nil else {
        throw LatheIOError.unsupported(
          file: file, field: "header field \(JSONText.quoted(name + ".dtype"))", value: text,
          supported: supported)
      }
      return (text, bits)
    }

    private func shape(_ name: String, _ value: Any?) throws -> [Int] {
      let expected = "an array of non-negative integers"
      guard let value else { throw fail(name + ".shape", expected: expected, got: "no such field") }
      guard let shape = JSONText.integers(value), shape.allSatisfy({ $0 >= 0 }) else {
        throw fail(name + ".shape", expected: expected, got: JSONText.describe(value))
      }
      return shape
    }

    private func offsets(_ name: String, _ value: Any?) throws -> (Int, Int) {
      let expected = "[begin, end] within the \(dataCount)-byte data section"
      guard let value else {
        throw fail(name + ".data_offsets", expected: expected, got: "no such field")
      }
      guard let pair = JSONText.integers(value), pair.count == 2,
        pair[0] >= 0, pair[0] <= pair[1], pair[1] <= dataCount
      else {
        throw fail(name + ".data_offsets", expected: expected, got: JSONText.describe(value))
      }
      return (pair[0], pair[1])
    }

    /// Tensors must tile the data section exactly: no overlaps (two tensors sharing bytes), no
    /// gaps, no trailing bytes. The reference implementation enforces the same.
    func checkContiguous(_ entries: [Entry]) throws {
      var position = 0
      var previous: Entry?
      for entry in entries {
        let range = "[\(entry.begin), \(entry.end)]"
        if entry.begin < position, let previous {
          throw fail(
            entry.name + ".data_offsets",
            expected: "a range that does not overlap another tensor's",
            got:
              "\(range), which overlaps \(JSONText.quoted(previous.name)) at [\(previous.begin), \(previous.end)]"
          )
        }
        if entry.begin > position {
          throw fail(
            entry.name + ".data_offsets",
            expected: "a range starting at byte \(position) (tensors are stored without gaps)",
            got: range)
        }
        position = entry.end
        previous = entry
      }
      guard position == dataCount else {
        throw LatheIOError.invalid(
          file: file, field: "data section",
          expected: "\(position) bytes, ending where the last tensor ends",
          got: "\(dataCount) bytes")
      }
    }

    func metadata(_ value: Any?) throws -> [String: String] {
      guard let value, !(value is NSNull) else { return [:] }
      guard let object = value as? [String: Any] else {
        throw fail(
          "__metadata__", expected: "an object of string values", got: JSONText.describe(value))
      }
      var metadata: [String: String] = [:]
      for (key, item) in object {
        guard let text = item as? String else {
          throw fail("__metadata__." + key, expected: "a string", got: JSONText.describe(item))
        }
        metadata[key] = text
      }
      return metadata
    }
  }
}
