import Foundation
import LatheTensor

/// A safetensors file: named tensors plus string metadata.
///
/// Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON describing each
/// tensor (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`),
/// then the data section, where each tensor's little-endian elements lie at its offsets,
/// contiguous and in order. Lathe reads and writes the F32, I8, U8 and I32 dtypes.
public struct SafetensorsFile: Sendable {
  /// The tensors in file order (by data offset), which is the order they were written in.
  public var tensors: [(name: String, tensor: AnyTensor)]
  /// Free-form string metadata (`__metadata__`), e.g. the model's architecture.
  public var metadata: [String: String]

  public init(tensors: [(name: String, tensor: AnyTensor)] = [], metadata: [String: String] = [:]) {
    self.tensors = tensors
    self.metadata = metadata
  }

  /// The tensor called `name`, if there is one.
  public subscript(name: String) -> AnyTensor? {
    tensors.first { $0.name == name }?.tensor
  }

  public static func read(from url: URL) throws -> SafetensorsFile {
    try decode(try FileBytes.read(url), file: url.path)
  }

  /// Parses a whole file's bytes; `file` names it in error messages.
  public static func decode(_ bytes: [UInt8], file: String) throws -> SafetensorsFile {
    let header = try SafetensorsHeader.parse(bytes, file: file)
    var tensors: [(name: String, tensor: AnyTensor)] = []
    tensors.reserveCapacity(header.entries.count)
    try bytes.withUnsafeBytes { raw in
      for entry in header.entries {
        let range = (header.dataStart + entry.begin)..<(header.dataStart + entry.end)
        let slice = UnsafeRawBufferPointer(rebasing: raw[range])
        // The header parser already matched the byte count to the shape; this is belt and braces.
        guard let dtype = entry.dtype,
          let tensor = AnyTensor(dtype: dtype, shape: entry.shape, littleEndianBytes: slice)
        else {
          throw LatheIOError.invalid(
            file: file, field: "header field \(JSONText.quoted(entry.name + ".data_offsets"))",
            expected: "a byte range matching the shape", got: "[\(entry.begin), \(entry.end)]")
        }
        tensors.append((entry.name, tensor))
      }
    }
    return SafetensorsFile(tensors: tensors, metadata: header.metadata)
  }

  /// The file's bytes. The header is compact JSON padded with spaces to a multiple of 8 bytes
  /// (as the reference implementation writes it, so the data section stays aligned), with
  /// `__metadata__` first and the tensors in array order.
  ///
  /// Throws when two tensors share a name or a tensor is named `__metadata__`: such a file
  /// could not be read back.
  public func encode() throws -> [UInt8] {
    var seen = Set<String>()
    for (name, _) in tensors {
      guard name != "__metadata__" else {
        throw LatheIOError.unencodable(
          what: "safetensors file", reason: "\"__metadata__\" is reserved, not a tensor name")
      }
      guard seen.insert(name).inserted else {
        throw LatheIOError.unencodable(
          what: "safetensors file", reason: "the tensor name \"\(name)\" appears twice")
      }
    }

    var fields: [String] = []
    if !metadata.isEmpty {
      let pairs = metadata.sorted { $0.key < $1.key }.map {
        JSONText.quoted($0.key) + ":" + JSONText.quoted($0.value)
      }
      fields.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
    }
    var offset = 0
    for (name, tensor) in tensors {
      let shape = tensor.shape.map(String.init).joined(separator: ",")
      let end = offset + tensor.byteCount
      fields.append(
        JSONText.quoted(name) + ":{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],"
          + "\"data_offsets\":[\(offset),\(end)]}")
      offset = end
    }
    var header = Array(("{" + fields.joined(separator: ",") + "}").utf8)
    header += [UInt8](repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)

    var bytes: [UInt8] = []
    bytes.reserveCapacity(8 + header.count + offset)
    let length = UInt64(header.count)
    for shift in stride(from: 0, to: 64, by: 8) {
      bytes.append(UInt8(truncatingIfNeeded: length >> UInt64(shift)))
    }
    bytes += header
    for (_, tensor) in tensors { bytes += tensor.littleEndianBytes }
    return bytes
  }

  /// Writes the file atomically: readers see the old file or the complete new one, never a part.
  public func write(to url: URL) throws {
    try AtomicFile.write(try encode(), to: url)
  }
}
