import Foundation

/// Parses a GGUF header (versions 2 and 3, little-endian) and checks it against the file.
struct GGUFHeaderParser {
  var cursor: GGUFCursor
  var file: String { cursor.file }

  init(bytes: UnsafeRawBufferPointer, file: String) {
    cursor = GGUFCursor(bytes: bytes, file: file)
  }

  /// The smallest tensor info: an empty name (8), n_dims (4), type (4), offset (8).
  static let minimumTensorInfoSize = 24
  /// The smallest metadata entry: an empty key (8), the type (4), a one-byte value.
  static let minimumEntrySize = 13
  /// ggml's GGML_MAX_DIMS.
  static let maximumDimensions = 4

  struct Header {
    var version: Int
    var metadata: [(key: String, value: GGUFValue)]
    var tensors: [GGUFFile.TensorInfo]
    var alignment: Int
    var dataStart: Int
  }

  mutating func parse() throws -> Header {
    try cursor.need(4, "magic (bytes 0-3)")
    let magic = Array(cursor.bytes[0..<4])
    guard magic == Array("GGUF".utf8) else {
      throw invalid("magic (bytes 0-3)", expected: "\"GGUF\"", got: magic.map { String(format: "%02x", $0) }.joined())
    }
    cursor.position = 4
    let version = try cursor.integer(UInt32.self, "version")
    guard version == 2 || version == 3 else {
      // A big-endian file shows its small version number byte-swapped.
      let hint = version.byteSwapped <= 3 ? " (a big-endian file, which Lathe does not read)" : ""
      throw LatheIOError.unsupported(file: file, field: "version", value: "\(version)\(hint)", supported: ["2", "3"])
    }
    let tensorCount = try cursor.count("tensor count", minimumSize: Self.minimumTensorInfoSize)
    let entryCount = try cursor.count("metadata count", minimumSize: Self.minimumEntrySize)

    var metadata: [(key: String, value: GGUFValue)] = []
    var keys = Set<String>()
    for i in 0..<entryCount {
      let key = try cursor.string("metadata entry \(i) key", strict: true)
      let field = "metadata \"\(OneLine.escaping(key))\""
      guard keys.insert(key).inserted else { throw invalid(field, expected: "a key used once", got: "a second entry") }
      let type = try valueType(field + " type")
      metadata.append((key, try value(of: type, field: field, inArray: false)))
    }

    var alignment = GGUFWriter.defaultAlignment
    if let given = metadata.first(where: { $0.key == "general.alignment" })?.value {
      guard case .uint32(let value) = given, value > 0, value & (value - 1) == 0 else {
        throw invalid("metadata \"general.alignment\"", expected: "a u32 power of two", got: "\(given)")
      }
      alignment = Int(value)
    }

    var tensors: [GGUFFile.TensorInfo] = []
    var names = Set<String>()
    for i in 0..<tensorCount {
      let tensor = try tensorInfo(i, alignment: alignment)
      guard names.insert(tensor.name).inserted else {
        throw invalid(
          "tensor info \(i) name", expected: "a name used once", got: "\"\(OneLine.escaping(tensor.name))\" again")
      }
      tensors.append(tensor)
    }

    let dataStart = GGUFWriter.padded(cursor.position, to: alignment)
    let dataBytes = cursor.bytes.count - Swift.min(dataStart, cursor.bytes.count)
    if !tensors.isEmpty, dataStart > cursor.bytes.count {
      throw invalid("data section", expected: "to start at byte \(dataStart)", got: "a \(cursor.bytes.count)-byte file")
    }
    // Offsets must fit the data section and the tensors must not overlap.
    var end = 0
    for tensor in tensors.sorted(by: { $0.offset < $1.offset }) {
      let field = "tensor \"\(OneLine.escaping(tensor.name))\" offset"
      guard tensor.offset >= end else {
        throw invalid(field, expected: "at least \(end) (after the tensor before it)", got: "\(tensor.offset)")
      }
      guard tensor.offset <= dataBytes, tensor.byteCount <= dataBytes - tensor.offset else {
        throw invalid(
          field, expected: "\(tensor.byteCount) bytes within the \(dataBytes)-byte data section",
          got: "offset \(tensor.offset) (the data ends past the file)")
      }
      end = tensor.offset + tensor.byteCount
    }
    return Header(
      version: Int(version), metadata: metadata, tensors: tensors, alignment: alignment, dataStart: dataStart)
  }

  private mutating func tensorInfo(_ i: Int, alignment: Int) throws -> GGUFFile.TensorInfo {
    let name = try cursor.string("tensor info \(i) name", strict: true)
    let field = "tensor \"\(OneLine.escaping(name))\""
    let rank = try cursor.integer(UInt32.self, field + " n_dims")
    guard rank <= Self.maximumDimensions else {
      throw invalid(field + " n_dims", expected: "at most \(Self.maximumDimensions)", got: "\(rank)")
    }
    var dimensions: [Int] = []
    var elements = 1
    for d in 0..<Int(rank) {
      let size = try cursor.integer(UInt64.self, field + " dimension \(d)")
      let product = elements.multipliedReportingOverflow(by: Int(clamping: size))
      guard size <= UInt64(Int.max), !product.overflow else {
        throw invalid(
          field + " dimension \(d)", expected: "a size whose product with the others fits 63 bits", got: "\(size)")
      }
      dimensions.append(Int(size))
      elements = product.partialValue
    }
    let rawType = try cursor.integer(UInt32.self, field + " type")
    guard let type = GGMLType(rawValue: rawType) else {
      throw LatheIOError.unsupported(
        file: file, field: field + " type", value: "ggml type \(rawType)",
        supported: GGMLType.allCases.map { "\($0.rawValue) (\($0))" })
    }
    let inner = dimensions.first ?? 1
    guard inner % type.blockSize == 0 else {
      throw invalid(
        field + " dimension 0", expected: "a multiple of \(type)'s block of \(type.blockSize)", got: "\(inner)")
    }
    // elements / blockSize · blockBytes cannot overflow: blockBytes ≤ 8·blockSize for every
    // type, and the elements fit in 63 bits, so check the product the cheap way.
    let (byteCount, overflow) = (elements / type.blockSize).multipliedReportingOverflow(by: type.blockBytes)
    guard !overflow else { throw invalid(field + " size", expected: "a byte count that fits 63 bits", got: "overflow") }
    let offset = try cursor.integer(UInt64.self, field + " offset")
    guard offset % UInt64(alignment) == 0, offset <= UInt64(Int.max) else {
      throw invalid(field + " offset", expected: "a multiple of the alignment \(alignment)", got: "\(offset)")
    }
    return GGUFFile.TensorInfo(
      name: name, dimensions: dimensions, type: type, offset: Int(offset), byteCount: byteCount, elements: elements)
  }

  private mutating func valueType(_ field: String) throws -> GGUFValueType {
    let raw = try cursor.integer(UInt32.self, field)
    guard let type = GGUFValueType(rawValue: raw) else {
      throw LatheIOError.unsupported(
        file: file, field: field, value: "\(raw)", supported: GGUFValueType.allCases.map { "\($0.rawValue) (\($0))" })
    }
    return type
  }

  private mutating func value(of type: GGUFValueType, field: String, inArray: Bool) throws -> GGUFValue {
    switch type {
    case .uint8: return .uint8(try cursor.integer(UInt8.self, field))
    case .int8: return .int8(try cursor.integer(Int8.self, field))
    case .uint16: return .uint16(try cursor.integer(UInt16.self, field))
    case .int16: return .int16(try cursor.integer(Int16.self, field))
    case .uint32: return .uint32(try cursor.integer(UInt32.self, field))
    case .int32: return .int32(try cursor.integer(Int32.self, field))
    case .uint64: return .uint64(try cursor.integer(UInt64.self, field))
    case .int64: return .int64(try cursor.integer(Int64.self, field))
    case .float32: return .float32(Float(bitPattern: try cursor.integer(UInt32.self, field)))
    case .float64: return .float64(Double(bitPattern: try cursor.integer(UInt64.self, field)))
    case .bool:
      let byte = try cursor.integer(UInt8.self, field)
      guard byte <= 1 else { throw invalid(field, expected: "a bool (0 or 1)", got: "\(byte)") }
      return .bool(byte == 1)
    case .string: return .string(try cursor.string(field, strict: false))
    case .array:
      // ggml's reader refuses arrays of arrays too; refusing them bounds the recursion.
      guard !inArray else {
        throw invalid(field, expected: "an array of scalars or strings", got: "an array of arrays")
      }
      let elementType = try valueType(field + " element type")
      let count = try cursor.count(field + " element count", minimumSize: elementType.minimumSize)
      var values: [GGUFValue] = []
      values.reserveCapacity(count)
      for i in 0..<count { values.append(try value(of: elementType, field: field + "[\(i)]", inArray: true)) }
      return .array(elementType, values)
    }
  }

  private func invalid(_ field: String, expected: String, got: String) -> LatheIOError {
    .invalid(file: file, field: field, expected: expected, got: got)
  }
}
