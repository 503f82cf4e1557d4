import Foundation

/// An array read from an IDX file, the format MNIST ships in, with its elements as `Float`.
public struct IDXArray: Sendable, Equatable {
  /// The element types IDX defines, by their type byte.
  public enum ElementType: UInt8, Sendable, CaseIterable {
    case uint8 = 0x08
    case int8 = 0x09
    case int16 = 0x0B
    case int32 = 0x0C
    case float32 = 0x0D
    case float64 = 0x0E

    public var byteSize: Int {
      switch self {
      case .uint8, .int8: return 1
      case .int16: return 2
      case .int32, .float32: return 4
      case .float64: return 8
      }
    }

    var name: String {
      switch self {
      case .uint8: return "u8"
      case .int8: return "i8"
      case .int16: return "i16"
      case .int32: return "i32"
      case .float32: return "f32"
      case .float64: return "f64"
      }
    }
  }

  /// The type the file stored its elements as.
  public var elementType: ElementType
  public var shape: [Int]
  /// The elements in row-major order.
  public var values: [Float]

  public init(elementType: ElementType, shape: [Int], values: [Float]) {
    self.elementType = elementType
    self.shape = shape
    self.values = values
  }
}

/// IDX files: bytes 0-1 are zero, byte 2 the element type, byte 3 the number of dimensions,
/// then each dimension as a big-endian u32, then the elements, big-endian, row-major.
public enum IDX {
  /// Reads an IDX file, gzipped or not.
  public static func read(from url: URL) throws -> IDXArray {
    try decode(try Gzip.readMaybeCompressed(url), file: url.path)
  }

  /// Parses an (uncompressed) IDX file's bytes; `file` names it in error messages.
  public static func decode(_ bytes: [UInt8], file: String) throws -> IDXArray {
    guard bytes.count >= 4 else {
      throw LatheIOError.invalid(
        file: file, field: "IDX header (bytes 0-3)", expected: "4 bytes",
        got: "a \(bytes.count)-byte file")
    }
    guard bytes[0] == 0, bytes[1] == 0 else {
      throw LatheIOError.invalid(
        file: file, field: "IDX magic number (bytes 0-1)", expected: "00 00",
        got: hex(bytes[0]) + " " + hex(bytes[1])
          + (Gzip.isGzipped(bytes) ? " (gzip data inside gzip?)" : ""))
    }
    guard let type = IDXArray.ElementType(rawValue: bytes[2]) else {
      throw LatheIOError.unsupported(
        file: file, field: "IDX element type (byte 2)", value: "0x" + hex(bytes[2]),
        supported: IDXArray.ElementType.allCases.map { "0x" + hex($0.rawValue) + " (\($0.name))" })
    }
    let rank = Int(bytes[3])
    let headerCount = 4 + 4 * rank
    guard bytes.count >= headerCount else {
      throw LatheIOError.invalid(
        file: file, field: "IDX dimensions (bytes 4-\(headerCount - 1))",
        expected: "\(rank) big-endian u32 sizes",
        got: "a \(bytes.count)-byte file")
    }
    var shape: [Int] = []
    var count = 1
    var overflow = false
    for axis in 0..<rank {
      let size = Int(bigEndian(bytes, at: 4 + 4 * axis, width: 4))
      shape.append(size)
      if !overflow { (count, overflow) = count.multipliedReportingOverflow(by: size) }
    }
    let dataCount = bytes.count - headerCount
    let (needed, byteOverflow) = count.multipliedReportingOverflow(by: type.byteSize)
    guard !overflow, !byteOverflow, needed == dataCount else {
      let wanted = overflow || byteOverflow ? "more bytes than fit in memory" : "\(needed) bytes"
      throw LatheIOError.invalid(
        file: file, field: "IDX data (from byte \(headerCount))",
        expected: "\(wanted) for shape \(shape) of \(type.name)",
        got: "\(dataCount) bytes" + (dataCount < needed ? " (the file is truncated)" : ""))
    }
    return IDXArray(
      elementType: type, shape: shape,
      values: elements(bytes, from: headerCount, count: count, type: type))
  }

  /// An IDX file of u8 elements (type 0x08), uncompressed. The shape must match the value
  /// count, have at most 255 dimensions and sizes that fit in u32: callers build these in code.
  public static func encodeUInt8(shape: [Int], values: [UInt8]) -> [UInt8] {
    precondition(shape.count <= 255, "IDX allows at most 255 dimensions, got \(shape.count)")
    precondition(
      shape.allSatisfy { $0 >= 0 && $0 <= Int(UInt32.max) }, "IDX dimension sizes are u32: \(shape)"
    )
    precondition(
      shape.reduce(1, *) == values.count, "shape \(shape) needs \(shape.reduce(1, *)) values")
    var bytes: [UInt8] = [0, 0, IDXArray.ElementType.uint8.rawValue, UInt8(shape.count)]
    for size in shape {
      bytes += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: UInt32(size) >> UInt32($0)) }
    }
    return bytes + values
  }

  private static func elements(
    _ bytes: [UInt8], from start: Int, count: Int, type: IDXArray.ElementType
  ) -> [Float] {
    bytes.withUnsafeBufferPointer { source in
      [Float](unsafeUninitializedCapacity: count) { values, initialized in
        let width = type.byteSize
        for i in 0..<count {
          let offset = start + i * width
          switch type {
          case .uint8: values[i] = Float(source[offset])
          case .int8: values[i] = Float(Int8(bitPattern: source[offset]))
          case .int16:
            values[i] = Float(Int16(truncatingIfNeeded: bigEndian(source, at: offset, width: 2)))
          case .int32:
            values[i] = Float(Int32(truncatingIfNeeded: bigEndian(source, at: offset, width: 4)))
          case .float32:
            values[i] = Float(bitPattern: UInt32(bigEndian(source, at: offset, width: 4)))
          case .float64:
            values[i] = Float(Double(bitPattern: bigEndian(source, at: offset, width: 8)))
          }
        }
        initialized = count
      }
    }
  }

  private static func bigEndian<C: RandomAccessCollection>(_ bytes: C, at offset: Int, width: Int)
    -> UInt64
  where C.Element == UInt8, C.Index == Int {
    var value: UInt64 = 0
    for i in 0..<width { value = value << 8 | UInt64(bytes[offset + i]) }
    return value
  }

  private static func hex(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16)
    return digits.count == 1 ? "0" + digits : digits
  }
}
