import Foundation

/// An array read from (or to be written to) a NumPy `.npy` file, with its elements as `Float`
/// in C (row-major) order whatever order the file stored them in.
///
/// The format: the magic `\x93NUMPY`, a major and minor version byte, the header length
/// (a little-endian u16 in version 1.0, u32 in 2.0 and 3.0), the header (a Python dict literal,
/// Latin-1 before 3.0 and UTF-8 in 3.0, ending in a newline), then the raw elements.
/// See https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html.
public struct NumpyArray: Sendable, Equatable {
  /// The type the file stores (or will store) the elements as.
  public var dtype: NumpyDType
  /// The sizes of the axes; empty for a 0-d array, which holds one element.
  public var shape: [Int]
  /// The elements in C order. Integers beyond 2²⁴ are rounded to the nearest `Float`.
  public var values: [Float]

  public init(dtype: NumpyDType = .float32, shape: [Int], values: [Float]) {
    precondition(shape.reduce(1, *) == values.count, "\(values.count) values for shape \(shape)")
    self.dtype = dtype
    self.shape = shape
    self.values = values
  }

  static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

  /// True when `bytes` start with the `.npy` magic.
  public static func isNumpy(_ bytes: [UInt8]) -> Bool { bytes.starts(with: magic) }

  public static func read(from url: URL) throws -> NumpyArray {
    try decode(try FileBytes.read(url), file: url.path)
  }

  /// Parses the bytes of an `.npy` file; `file` names it in error messages. Every header field
  /// is checked (the element count for overflow, the data against what remains of the file)
  /// before anything is allocated.
  public static func decode(_ bytes: [UInt8], file: String) throws -> NumpyArray {
    guard bytes.count >= 10 else {
      throw LatheIOError.invalid(
        file: file, field: "npy preamble (bytes 0-9)", expected: "at least 10 bytes", got: "a \(bytes.count)-byte file")
    }
    guard isNumpy(bytes) else {
      throw LatheIOError.invalid(
        file: file, field: "npy magic (bytes 0-5)", expected: "93 4E 55 4D 50 59 (\\x93NUMPY)",
        got: bytes.prefix(6).map { String(format: "%02X", $0) }.joined(separator: " "))
    }
    let (major, minor) = (bytes[6], bytes[7])
    guard (1...3).contains(major), minor == 0 else {
      throw LatheIOError.unsupported(
        file: file, field: "npy format version (bytes 6-7)", value: "\(major).\(minor)",
        supported: ["1.0", "2.0", "3.0"])
    }
    let lengthBytes = major == 1 ? 2 : 4
    let dataStart = 8 + lengthBytes
    guard bytes.count >= dataStart else {
      throw LatheIOError.invalid(
        file: file, field: "npy header length (bytes 8-\(dataStart - 1))", expected: "\(lengthBytes) bytes",
        got: "a \(bytes.count)-byte file")
    }
    let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
    guard headerLength <= bytes.count - dataStart else {
      throw LatheIOError.invalid(
        file: file, field: "npy header length (bytes 8-\(dataStart - 1))",
        expected: "at most the \(bytes.count - dataStart) bytes left in the file", got: "\(headerLength)")
    }
    let headerBytes = bytes[dataStart..<dataStart + headerLength]
    // 1.0 and 2.0 headers are Latin-1 (every byte one scalar); 3.0 allows UTF-8.
    let decoded =
      major == 3
      ? String(validating: headerBytes, as: UTF8.self)
      : String(String.UnicodeScalarView(headerBytes.map { Unicode.Scalar($0) }))
    guard let text = decoded else {
      throw LatheIOError.invalid(
        file: file, field: "npy header", expected: "UTF-8 text (format 3.0)", got: "bytes that are not UTF-8")
    }
    let header = try NumpyHeader.parse(text, file: file)

    var count = 1
    for size in header.shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: size)
      guard !overflow else {
        throw LatheIOError.invalid(
          file: file, field: "npy header 'shape'", expected: "an element count that fits in 64 bits",
          got: "\(header.shape)")
      }
      count = product
    }
    let offset = dataStart + headerLength
    let (byteCount, overflow) = count.multipliedReportingOverflow(by: header.dtype.byteSize)
    guard !overflow, byteCount == bytes.count - offset else {
      throw LatheIOError.invalid(
        file: file, field: "npy data (from byte \(offset))",
        expected: overflow
          ? "a byte count that fits in 64 bits"
          : "\(byteCount) bytes (\(count) \(header.dtype.descr) elements of shape \(header.shape))",
        got: "\(bytes.count - offset) bytes")
    }
    let dtype = header.dtype
    var values = bytes.withUnsafeBytes { raw in
      (0..<count).map { dtype.value(raw, at: offset + $0 * dtype.byteSize) }
    }
    if header.fortranOrder && header.shape.count > 1 { values = cOrder(fortran: values, shape: header.shape) }
    return NumpyArray(dtype: dtype, shape: header.shape, values: values)
  }

  /// Fortran (column-major: first axis fastest) elements rearranged to C order.
  static func cOrder(fortran: [Float], shape: [Int]) -> [Float] {
    guard !fortran.isEmpty else { return fortran }
    var strides = [Int](repeating: 1, count: shape.count)
    for axis in stride(from: shape.count - 2, through: 0, by: -1) {
      strides[axis] = strides[axis + 1] * shape[axis + 1]
    }
    var result = [Float](repeating: 0, count: fortran.count)
    var index = [Int](repeating: 0, count: shape.count)
    var target = 0
    for value in fortran {
      result[target] = value
      // Step the multi-index with the first axis fastest, keeping the C offset in step.
      for axis in 0..<shape.count {
        index[axis] += 1
        target += strides[axis]
        if index[axis] < shape[axis] { break }
        target -= strides[axis] * shape[axis]
        index[axis] = 0
      }
    }
    return result
  }

  /// The `.npy` bytes: format 1.0 (2.0 when the header needs more than 64 KiB), C order,
  /// little-endian, the header padded with spaces so the data starts on a 64-byte boundary as
  /// numpy does. Throws when a value has no representation in `dtype` (1.5 as an integer).
  public func encoded() throws -> [UInt8] {
    guard !(dtype.kind == .float && dtype.byteSize == 2) else {
      throw LatheIOError.unencodable(what: "an f2 npy array", reason: "Lathe writes f4 and f8 floats, not f2")
    }
    // Always written little-endian, whatever order the array was read in.
    var little = dtype
    little.isBigEndian = false
    var bytes = Self.magic
    var header = Array(NumpyHeader(dtype: little, fortranOrder: false, shape: shape).text.utf8)
    let lengthBytes = header.count + 1 + 10 > 65535 ? 4 : 2
    let unpadded = 8 + lengthBytes + header.count + 1
    header += [UInt8](repeating: 0x20, count: (64 - unpadded % 64) % 64) + [0x0A]
    bytes += [lengthBytes == 2 ? 1 : 2, 0]
    bytes += (0..<lengthBytes).map { UInt8(truncatingIfNeeded: header.count >> (8 * $0)) }
    bytes += header
    bytes.reserveCapacity(bytes.count + values.count * dtype.byteSize)
    for (index, value) in values.enumerated() {
      guard let element = little.bytes(of: value) else {
        throw LatheIOError.unencodable(
          what: "element \(index) of a \(dtype.descr) npy array",
          reason: "\(value) has no \(dtype.descr) representation")
      }
      bytes += element
    }
    return bytes
  }

  /// Writes the `.npy` file atomically (see `AtomicFile`).
  public func write(to url: URL) throws {
    try AtomicFile.write(try encoded(), to: url)
  }
}
