import Foundation

/// Reads an ONNX file without holding its weights twice.
///
/// Decoding a whole ModelProto with SwiftProtobuf copies every initializer's bytes out of the
/// file, so for a moment the process holds the file's pages and that copy, and then the copy
/// and the decoded tensors: twice the file size. Here the file is mapped, the protobuf wire
/// format is walked just far enough to find the initializers, and the rest of the model (nodes,
/// inputs, opsets: small) is decoded by SwiftProtobuf from the remaining bytes. Each
/// initializer's raw bytes are then decoded straight from the mapping, and the mapped pages are
/// dropped as they are read, so the process holds about the file size once.
final class StreamedModelFile {
  let path: String
  private let base: UnsafeMutableRawPointer?
  let count: Int
  private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

  /// The model with its graph's initializers left out, and where each initializer lies.
  private(set) var model = Onnx_ModelProto()
  private(set) var initializers: [Range<Int>] = []

  init(path: String) throws(ONNXError) {
    self.path = path
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw .unreadable(file: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw .unreadable(file: path, reason: String(cString: strerror(errno))) }
    count = Int(info.st_size)
    if count == 0 {
      base = nil
    } else {
      let mapped = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
      guard let mapped, mapped != MAP_FAILED else {
        throw .unreadable(file: path, reason: String(cString: strerror(errno)))
      }
      base = mapped
    }
    try split()
  }

  deinit {
    if let base { munmap(base, count) }
  }

  /// The bytes of `range` as Data that points into the mapping (valid while self lives).
  func bytes(_ range: Range<Int>) -> Data {
    guard let base, !range.isEmpty else { return Data() }
    return Data(bytesNoCopy: base + range.lowerBound, count: range.count, deallocator: .none)
  }

  /// Drops the whole pages inside `pointer ..< pointer + length` from the process: they were read
  /// and will not be again (the kernel keeps them in its page cache).
  func release(_ pointer: UnsafeRawPointer, length: Int) {
    let page = StreamedModelFile.pageSize
    let start = (Int(bitPattern: pointer) + page - 1) / page * page
    let end = (Int(bitPattern: pointer) + length) / page * page
    guard end > start, let first = UnsafeMutableRawPointer(bitPattern: start) else { return }
    madvise(first, end - start, MADV_DONTNEED)
  }

  // MARK: the wire format, just enough of it

  private struct Field {
    var number: Int
    /// The whole field, key included, and its payload (length-delimited fields only).
    var whole: Range<Int>
    var payload: Range<Int>
  }

  private func fields(in range: Range<Int>) throws(ONNXError) -> [Field] {
    guard let base else { return [] }
    let bytes = UnsafeRawBufferPointer(start: base, count: count)
    var at = range.lowerBound
    var result: [Field] = []
    func varint() throws(ONNXError) -> UInt64 {
      var value: UInt64 = 0
      var shift: UInt64 = 0
      while true {
        guard at < range.upperBound, shift < 64 else {
          throw .unreadable(file: path, reason: "not a protobuf-encoded ONNX model (truncated or malformed varint)")
        }
        let byte = bytes[at]
        at += 1
        value |= UInt64(byte & 0x7F) << shift
        if byte & 0x80 == 0 { return value }
        shift += 7
      }
    }
    while at < range.upperBound {
      let start = at
      let key = try varint()
      let number = Int(key >> 3)
      var payload = at..<at
      switch key & 7 {
      case 0: _ = try varint()
      case 1: at += 8
      case 5: at += 4
      case 2:
        let length = try varint()
        guard length <= UInt64(range.upperBound - at) else {
          throw .unreadable(file: path, reason: "not a protobuf-encoded ONNX model (a field runs past the end)")
        }
        payload = at..<(at + Int(length))
        at += Int(length)
      default:
        throw .unreadable(file: path, reason: "not a protobuf-encoded ONNX model (wire type \(key & 7))")
      }
      guard number > 0, at <= range.upperBound else {
        throw .unreadable(file: path, reason: "not a protobuf-encoded ONNX model (truncated or malformed)")
      }
      result.append(Field(number: number, whole: start..<at, payload: payload))
    }
    return result
  }

  /// The bytes of `fields` concatenated: a message of just those fields.
  private func message(_ fields: [Field]) -> Data {
    var data = Data(capacity: fields.reduce(0) { $0 + $1.whole.count })
    for field in fields { data.append(bytes(field.whole)) }
    return data
  }

  private func split() throws(ONNXError) {
    // ModelProto.graph is field 7; GraphProto.initializer is field 5.
    let top = try fields(in: 0..<count)
    let graphs = top.filter { $0.number == 7 }
    var graphFields: [Field] = []
    for graph in graphs { graphFields += try fields(in: graph.payload) }
    initializers = graphFields.filter { $0.number == 5 }.map(\.payload)
    do {
      model = try Onnx_ModelProto(serializedBytes: message(top.filter { $0.number != 7 }))
      if !graphs.isEmpty {
        model.graph = try Onnx_GraphProto(serializedBytes: message(graphFields.filter { $0.number != 5 }))
      }
    } catch {
      throw .unreadable(file: path, reason: "not a protobuf-encoded ONNX model (truncated or malformed: \(error))")
    }
  }

  /// The graph's initializer names (TensorProto field 8), read without touching their data.
  func initializerNames() throws(ONNXError) -> [String] {
    var names: [String] = []
    for range in initializers {
      let name = try fields(in: range).last { $0.number == 8 }
      names.append(name.map { String(decoding: bytes($0.payload), as: UTF8.self) } ?? "")
    }
    return names
  }

  /// Initializer `index`, its raw bytes (TensorProto field 9) pointing into the mapping.
  func initializer(_ index: Int) throws(ONNXError) -> Onnx_TensorProto {
    let range = initializers[index]
    do {
      let parts = try fields(in: range)
      var tensor = try Onnx_TensorProto(serializedBytes: message(parts.filter { $0.number != 9 }))
      if let raw = parts.last(where: { $0.number == 9 }) { tensor.rawData = bytes(raw.payload) }
      return tensor
    } catch let error as ONNXError {
      throw error
    } catch {
      throw .unreadable(file: path, reason: "not a protobuf-encoded ONNX model (initializer \(index): \(error))")
    }
  }
}
