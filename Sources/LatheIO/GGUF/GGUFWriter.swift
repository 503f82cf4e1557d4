import Foundation

/// A tensor to write into a GGUF file: its bytes already in `type`'s encoding.
public struct GGUFTensor: Sendable {
  public var name: String
  /// GGUF order: innermost (fastest-varying) dimension first, the reverse of a row-major
  /// shape — a Linear weight [out, in] is written as [in, out].
  public var dimensions: [Int]
  public var type: GGMLType
  public var data: [UInt8]

  public init(name: String, dimensions: [Int], type: GGMLType, data: [UInt8]) {
    self.name = name
    self.dimensions = dimensions
    self.type = type
    self.data = data
  }

  /// `values` in row-major `shape`, encoded as `type` (the innermost dimension must be a whole
  /// number of `type`'s blocks).
  public init(name: String, shape: [Int], values: [Float], type: GGMLType) throws(LatheIOError) {
    let inner = shape.last ?? 1
    guard inner % type.blockSize == 0 else {
      throw .unencodable(
        what: "tensor \"\(OneLine.escaping(name))\" as \(type)",
        reason: "its innermost dimension \(inner) is not a multiple of the block size \(type.blockSize)")
    }
    guard GGMLType.codable.contains(type) else {
      throw .unencodable(
        what: "tensor \"\(OneLine.escaping(name))\" as \(type)", reason: "Lathe does not encode \(type)")
    }
    self.init(
      name: name, dimensions: shape.reversed(), type: type, data: GGMLCodec.encode(values, as: type))
  }
}

/// Writes GGUF version 3, the file format of llama.cpp and ggml
/// (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md), little-endian:
///
///     "GGUF"  u32 version  u64 tensor count  u64 metadata count
///     metadata: string key, u32 value type, value          (strings: u64 length + UTF-8)
///     tensor infos: string name, u32 n_dims, u64 dims[n_dims], u32 ggml type, u64 offset
///     zero padding to `alignment`, then each tensor's data at its offset (from the data
///     section's start, a multiple of `alignment`), each padded to `alignment`.
///
/// `general.alignment` is written (as u32) when the caller gives none, so readers need not
/// assume the default.
public enum GGUFWriter {
  public static let defaultAlignment = 32

  public static func write(
    metadata: [(key: String, value: GGUFValue)], tensors: [GGUFTensor], to url: URL
  ) throws(LatheIOError) {
    try AtomicFile.write(try encode(metadata: metadata, tensors: tensors), to: url)
  }

  public static func encode(metadata: [(key: String, value: GGUFValue)], tensors: [GGUFTensor]) throws(LatheIOError)
    -> [UInt8]
  {
    var metadata = metadata
    let alignment: Int
    if let given = metadata.first(where: { $0.key == "general.alignment" }) {
      guard case .uint32(let value) = given.value, value > 0, value & (value - 1) == 0 else {
        throw .unencodable(what: "general.alignment", reason: "it must be a u32 power of two, got \(given.value)")
      }
      alignment = Int(value)
    } else {
      alignment = defaultAlignment
      metadata.append((key: "general.alignment", value: .uint32(UInt32(alignment))))
    }
    try checkUnique(metadata.map(\.key), what: "metadata key")
    try checkUnique(tensors.map(\.name), what: "tensor name")

    var out: [UInt8] = Array("GGUF".utf8)
    append(UInt32(3), to: &out)
    append(UInt64(tensors.count), to: &out)
    append(UInt64(metadata.count), to: &out)
    for (key, value) in metadata {
      append(key, to: &out)
      append(value.type.rawValue, to: &out)
      try append(value, to: &out, key: key)
    }
    var offset = 0
    for tensor in tensors {
      try check(tensor)
      append(tensor.name, to: &out)
      append(UInt32(tensor.dimensions.count), to: &out)
      for d in tensor.dimensions { append(UInt64(d), to: &out) }
      append(tensor.type.rawValue, to: &out)
      append(UInt64(offset), to: &out)
      offset += padded(tensor.data.count, to: alignment)
    }
    out += [UInt8](repeating: 0, count: padded(out.count, to: alignment) - out.count)
    out.reserveCapacity(out.count + offset)
    for tensor in tensors {
      out += tensor.data
      out += [UInt8](repeating: 0, count: padded(tensor.data.count, to: alignment) - tensor.data.count)
    }
    return out
  }

  static func padded(_ count: Int, to alignment: Int) -> Int { (count + alignment - 1) / alignment * alignment }

  /// Dimensions, type and byte count agree, as a reader will check them.
  private static func check(_ tensor: GGUFTensor) throws(LatheIOError) {
    let what = "tensor \"\(OneLine.escaping(tensor.name))\""
    // ggml keeps a tensor's name in char[GGML_MAX_NAME = 64], terminator included.
    guard tensor.name.utf8.count < 64 else {
      throw .unencodable(what: what, reason: "GGUF readers take names of at most 63 bytes")
    }
    guard (1...4).contains(tensor.dimensions.count), tensor.dimensions.allSatisfy({ $0 >= 0 }) else {
      throw .unencodable(what: what, reason: "GGUF holds 1 to 4 dimensions of size ≥ 0, got \(tensor.dimensions)")
    }
    guard tensor.dimensions[0] % tensor.type.blockSize == 0 else {
      throw .unencodable(
        what: what, reason: "innermost dimension \(tensor.dimensions[0]) is not whole \(tensor.type) blocks")
    }
    let elements = tensor.dimensions.reduce(1, *)
    guard tensor.data.count == elements / tensor.type.blockSize * tensor.type.blockBytes else {
      throw .unencodable(
        what: what, reason: "\(tensor.data.count) bytes for \(elements) elements of \(tensor.type)")
    }
  }

  private static func checkUnique(_ names: [String], what: String) throws(LatheIOError) {
    var seen = Set<String>()
    for name in names where !seen.insert(name).inserted {
      throw .unencodable(what: "\(what) \"\(OneLine.escaping(name))\"", reason: "it appears twice")
    }
  }

  private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
    for i in 0..<(T.bitWidth / 8) { out.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
  }

  private static func append(_ text: String, to out: inout [UInt8]) {
    append(UInt64(text.utf8.count), to: &out)
    out += text.utf8
  }

  private static func append(_ value: GGUFValue, to out: inout [UInt8], key: String) throws(LatheIOError) {
    switch value {
    case .uint8(let v): append(v, to: &out)
    case .int8(let v): append(v, to: &out)
    case .uint16(let v): append(v, to: &out)
    case .int16(let v): append(v, to: &out)
    case .uint32(let v): append(v, to: &out)
    case .int32(let v): append(v, to: &out)
    case .uint64(let v): append(v, to: &out)
    case .int64(let v): append(v, to: &out)
    case .float32(let v): append(v.bitPattern, to: &out)
    case .float64(let v): append(v.bitPattern, to: &out)
    case .bool(let v): out.append(v ? 1 : 0)
    case .string(let v): append(v, to: &out)
    case .array(let type, let values):
      guard type != .array, values.allSatisfy({ $0.type == type }) else {
        throw .unencodable(
          what: "metadata \"\(OneLine.escaping(key))\"", reason: "an array must hold values of its one, non-array type")
      }
      append(type.rawValue, to: &out)
      append(UInt64(values.count), to: &out)
      for element in values { try append(element, to: &out, key: key) }
    }
  }
}
