import Foundation

/// A GGUF file as read: its metadata, its tensors' descriptions, and their bytes on demand.
///
/// The file is mapped, not read, and only the header is parsed, so listing a model of many
/// gigabytes costs its header. Every count, length, dimension and offset is checked (overflow
/// included) against the file's size before it is used, like ggml's own reader (`gguf.cpp`).
public struct GGUFFile: @unchecked Sendable {
  public struct TensorInfo: Sendable, Equatable {
    public var name: String
    /// GGUF order: innermost dimension first.
    public var dimensions: [Int]
    public var type: GGMLType
    /// From the start of the data section.
    public var offset: Int
    public var byteCount: Int
    public var elements: Int
    /// Row-major (NumPy, PyTorch) order: `dimensions` reversed.
    public var shape: [Int] { dimensions.reversed() }
  }

  public var path: String
  public var version: Int
  public var metadata: [(key: String, value: GGUFValue)]
  public var tensors: [TensorInfo]
  public var alignment: Int
  /// Where the data section starts in the file.
  public var dataStart: Int
  /// The whole file (mapped when read from disk): immutable, hence the unchecked Sendable.
  let bytes: Data

  public subscript(key: String) -> GGUFValue? { metadata.first { $0.key == key }?.value }

  public static func read(from url: URL) throws -> GGUFFile {
    let bytes: Data
    do {
      bytes = try Data(contentsOf: url, options: .alwaysMapped)
    } catch {
      throw LatheIOError.unreadable(file: url.path, reason: FileBytes.reason(error))
    }
    return try decode(bytes, file: url.path)
  }

  /// True when `bytes` start with GGUF's magic.
  public static func isGGUF(_ bytes: [UInt8]) -> Bool { bytes.starts(with: Array("GGUF".utf8)) }

  /// True for a `.gguf` path or a file starting with the magic.
  public static func isGGUF(_ url: URL) -> Bool {
    if url.pathExtension.lowercased() == "gguf" { return true }
    guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
    defer { try? handle.close() }
    return isGGUF([UInt8](handle.readData(ofLength: 4)))
  }

  /// The tensor's bytes, exactly `byteCount` of them.
  public func data(of tensor: TensorInfo) -> [UInt8] {
    let start = bytes.startIndex + dataStart + tensor.offset
    return [UInt8](bytes[start..<(start + tensor.byteCount)])
  }

  /// The tensor's values as floats, in GGUF order (innermost first, which is row-major order
  /// for `shape`), for the types `GGMLCodec` decodes.
  public func floats(of tensor: TensorInfo) throws -> [Float] {
    guard GGMLType.codable.contains(tensor.type) else {
      throw LatheIOError.unsupported(
        file: path, field: "tensor \"\(OneLine.escaping(tensor.name))\" type", value: "\(tensor.type)",
        supported: GGMLType.codable.map(\.description))
    }
    return GGMLCodec.decode(data(of: tensor), as: tensor.type, count: tensor.elements)
  }

  public static func decode(_ bytes: Data, file: String) throws -> GGUFFile {
    let header = try bytes.withUnsafeBytes { raw in
      var parser = GGUFHeaderParser(bytes: raw, file: file)
      return try parser.parse()
    }
    return GGUFFile(
      path: file, version: header.version, metadata: header.metadata, tensors: header.tensors,
      alignment: header.alignment, dataStart: header.dataStart, bytes: bytes)
  }
}
