import Foundation
import LatheTensor

/// The validated header of a safetensors file: where each tensor's bytes are, and the metadata.
/// Every length, offset and shape is checked before any tensor is built, so a damaged or
/// hostile file produces an error, never a crash or an out-of-bounds read.
struct SafetensorsHeader {
  struct Entry {
    var name: String
    var dtype: DType
    var shape: [Int]
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

  static func parse(_ bytes: [UInt8], file: String) throws -> SafetensorsHeader {
    guard bytes.count >= 8 else {
      throw LatheIOError.invalid(
        file: file, field: "header length (first 8 bytes)",
        expected: "an 8-byte little-endian length",
        got: "a \(bytes.count)-byte file")
    }
    var length: UInt64 = 0
    for i in 0..<8 { length |= UInt64(bytes[i]) << UInt64(8 * i) }
    guard length <= UInt64(min(bytes.count - 8, maximumHeaderLength)) else {
      throw LatheIOError.invalid(
        file: file, field: "header length (first 8 bytes)",
        expected:
          "at most \(min(bytes.count - 8, maximumHeaderLength)) bytes (the file has \(bytes.count) bytes)",
        got: "\(length)")
    }
    let dataStart = 8 + Int(length)
    let headerBytes = bytes[8..<dataStart]

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

    let context = Context(file: file, dataCount: bytes.count - dataStart)
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
      let dtype = try self.dtype(name, info["dtype"])
      let shape = try self.shape(name, info["shape"])
      let (begin, end) = try offsets(name, info["data_offsets"])

      var count = 1
      var overflow = false
      for dimension in shape where !overflow {
        (count, overflow) = count.multipliedReportingOverflow(by: dimension)
      }
      let (byteCount, byteOverflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
      let shapeText = "[" + shape.map(String.init).joined(separator: ", ") + "]"
      guard !overflow, !byteOverflow, byteCount == end - begin else {
        let wanted =
          overflow || byteOverflow ? "more bytes than fit in memory" : "\(byteCount) bytes"
        throw fail(
          name + ".data_offsets",
          expected: "a range of \(wanted) (shape \(shapeText) of \(dtype.rawValue))",
          got: "[\(begin), \(end)] (\(end - begin) bytes)")
      }
      return Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    private func dtype(_ name: String, _ value: Any?) throws -> DType {
      let supported = DType.allCases.map(\.rawValue)
      guard let value else {
        throw fail(name + ".dtype", expected: "a dtype such as \"F32\"", got: "no such field")
      }
      guard let text = value as? String else {
        throw fail(
          name + ".dtype", expected: "a dtype string such as \"F32\"", got: JSONText.describe(value)
        )
      }
      guard let dtype = DType(rawValue: text) else {
        throw LatheIOError.unsupported(
          file: file, field: "header field \(JSONText.quoted(name + ".dtype"))", value: text,
          supported: supported)
      }
      return dtype
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
