import Foundation
import LatheTensor

/// Reads a TensorProto's elements from whichever field holds them (raw bytes, typed lists or
/// an external file) and checks their count against the dims.
struct TensorDecoder {
  /// The folder external data paths are relative to (the model file's folder).
  var directory: URL?
  /// Told of each stretch of raw fp32 bytes once it is copied into a tensor, so a mapped file
  /// can drop those pages (large weights are copied in chunks for that).
  var bytesRead: ((UnsafeRawBufferPointer) -> Void)?

  func decode(_ proto: Onnx_TensorProto) throws(NodeError) -> ONNXConstant {
    let name = proto.name.isEmpty ? "tensor" : "tensor \"\(proto.name)\""
    guard proto.dims.allSatisfy({ $0 >= 0 && $0 < Int64(Int32.max) }) else {
      throw NodeError("\(name) has invalid dims \(proto.dims)")
    }
    let shape = proto.dims.map { Int($0) }
    let (count, overflow) = shape.reduce((1, false)) { acc, d in
      let (v, o) = acc.0.multipliedReportingOverflow(by: d)
      return (v, acc.1 || o)
    }
    guard !overflow, count < 1 << 34 else { throw NodeError("\(name) has too many elements (dims \(shape))") }
    guard let type = Onnx_TensorProto.DataType(rawValue: Int(proto.dataType)) else {
      throw NodeError("\(name) has unknown data type \(proto.dataType)")
    }
    let raw: Data?
    if proto.dataLocation == .external {
      raw = try externalBytes(proto, name: name)
    } else if proto.hasRawData {
      raw = proto.rawData
    } else {
      raw = nil
    }
    if let raw { return try fromRaw(raw, type: type, shape: shape, count: count, name: name) }
    return try fromTyped(proto, type: type, shape: shape, count: count, name: name)
  }

  private func externalBytes(_ proto: Onnx_TensorProto, name: String) throws(NodeError) -> Data {
    let entries = Dictionary(proto.externalData.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    guard let location = entries["location"], !location.isEmpty else {
      throw NodeError("\(name) is stored externally but names no location")
    }
    guard !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
      throw NodeError("\(name): external data location \"\(location)\" leaves the model's folder")
    }
    let url = (directory ?? URL(fileURLWithPath: ".")).appendingPathComponent(location)
    let data: Data
    do {
      data = try Data(contentsOf: url, options: .alwaysMapped)
    } catch {
      throw NodeError("\(name): cannot read external data file \(url.path): \(error.localizedDescription)")
    }
    let offset = Int(entries["offset"] ?? "0") ?? -1
    let length = entries["length"].flatMap { Int($0) } ?? (data.count - max(offset, 0))
    // `length <= count - offset`, not `offset + length <= count`: a huge length must not overflow.
    guard offset >= 0, length >= 0, offset <= data.count, length <= data.count - offset else {
      throw NodeError("\(name): external data offset \(offset) and length \(length) overrun \(url.path)")
    }
    return data.subdata(in: offset..<(offset + length))
  }

  private func fromRaw(
    _ raw: Data, type: Onnx_TensorProto.DataType, shape: [Int], count: Int, name: String
  ) throws(NodeError) -> ONNXConstant {
    if type == .int4 || type == .uint4 {
      guard raw.count == (count + 1) / 2 else {
        throw NodeError("\(name) has \(raw.count) bytes of data, its dims \(shape) need \((count + 1) / 2)")
      }
      let bytes = [UInt8](raw)
      let ints = (0..<count).map { i -> Int in
        let nibble = Int(i % 2 == 0 ? bytes[i / 2] & 0xF : bytes[i / 2] >> 4)
        return type == .int4 && nibble >= 8 ? nibble - 16 : nibble
      }
      return ONNXConstant(shape: shape, ints: ints, elementType: type)
    }
    guard let width = TensorDecoder.byteWidth[type] else {
      throw NodeError("\(name) has data type \(type.name), which Lathe does not read")
    }
    guard raw.count == count * width else {
      throw NodeError("\(name) has \(raw.count) bytes of data, its dims \(shape) need \(count * width)")
    }
    return raw.withUnsafeBytes { (p: UnsafeRawBufferPointer) -> ONNXConstant in
      func load<T>(_: T.Type, _ i: Int) -> T { p.loadUnaligned(fromByteOffset: i * width, as: T.self) }
      switch type {
      case .float:
        return ONNXConstant(
          Tensor<Float>(shape: shape) { dst in
            let target = UnsafeMutableRawBufferPointer(dst)
            let chunk = 4 << 20
            for start in stride(from: 0, to: p.count, by: chunk) {
              let part = UnsafeRawBufferPointer(rebasing: p[start..<min(start + chunk, p.count)])
              UnsafeMutableRawBufferPointer(rebasing: target[start..<(start + part.count)]).copyMemory(from: part)
              bytesRead?(part)
            }
          })
      case .double: return ONNXConstant(Tensor(shape: shape, scalars: (0..<count).map { Float(load(Double.self, $0)) }))
      case .float16:
        return ONNXConstant(
          Tensor(shape: shape, scalars: (0..<count).map { Float(halfBits: load(UInt16.self, $0)) }),
          elementType: .float16)
      case .bfloat16:
        return ONNXConstant(
          Tensor(shape: shape, scalars: (0..<count).map { Float(bitPattern: UInt32(load(UInt16.self, $0)) << 16) }),
          elementType: .bfloat16)
      case .int8: return ints(shape, type, (0..<count).map { Int(load(Int8.self, $0)) })
      case .uint8, .bool: return ints(shape, type, (0..<count).map { Int(load(UInt8.self, $0)) })
      case .int16: return ints(shape, type, (0..<count).map { Int(load(Int16.self, $0)) })
      case .uint16: return ints(shape, type, (0..<count).map { Int(load(UInt16.self, $0)) })
      case .int32: return ints(shape, type, (0..<count).map { Int(load(Int32.self, $0)) })
      case .uint32: return ints(shape, type, (0..<count).map { Int(load(UInt32.self, $0)) })
      case .int64: return ints(shape, type, (0..<count).map { Int(load(Int64.self, $0)) })
      default: return ints(shape, type, (0..<count).map { Int(truncatingIfNeeded: load(UInt64.self, $0)) })
      }
    }
  }

  private func ints(_ shape: [Int], _ type: Onnx_TensorProto.DataType, _ values: [Int]) -> ONNXConstant {
    ONNXConstant(shape: shape, ints: values, elementType: type)
  }

  private func fromTyped(
    _ proto: Onnx_TensorProto, type: Onnx_TensorProto.DataType, shape: [Int], count: Int, name: String
  ) throws(NodeError) -> ONNXConstant {
    func check(_ n: Int, _ field: String) throws(NodeError) {
      guard n == count else { throw NodeError("\(name) has \(n) values in \(field), its dims \(shape) need \(count)") }
    }
    switch type {
    case .float:
      try check(proto.floatData.count, "float_data")
      return ONNXConstant(Tensor(shape: shape, scalars: proto.floatData))
    case .double:
      try check(proto.doubleData.count, "double_data")
      return ONNXConstant(Tensor(shape: shape, scalars: proto.doubleData.map { Float($0) }))
    case .float16, .bfloat16:
      try check(proto.int32Data.count, "int32_data")
      let values = proto.int32Data.map { bits -> Float in
        type == .float16
          ? Float(halfBits: UInt16(truncatingIfNeeded: bits))
          : Float(bitPattern: UInt32(truncatingIfNeeded: bits) << 16)
      }
      return ONNXConstant(Tensor(shape: shape, scalars: values), elementType: type)
    case .int8, .uint8, .int16, .uint16, .int32, .bool:
      try check(proto.int32Data.count, "int32_data")
      return ints(shape, type, proto.int32Data.map { Int($0) })
    case .int64:
      try check(proto.int64Data.count, "int64_data")
      return ints(shape, type, proto.int64Data.map { Int($0) })
    case .uint32, .uint64:
      try check(proto.uint64Data.count, "uint64_data")
      return ints(shape, type, proto.uint64Data.map { Int(truncatingIfNeeded: $0) })
    case .int4, .uint4:
      try check(
        (proto.int32Data.count * 2 >= count && proto.int32Data.count * 2 <= count + 1) ? count : -1, "int32_data")
      let ints = (0..<count).map { i -> Int in
        let byte = Int(proto.int32Data[i / 2]) & 0xFF
        let nibble = i % 2 == 0 ? byte & 0xF : byte >> 4
        return type == .int4 && nibble >= 8 ? nibble - 16 : nibble
      }
      return ONNXConstant(shape: shape, ints: ints, elementType: type)
    default:
      throw NodeError("\(name) has data type \(type.name), which Lathe does not read")
    }
  }

  static let byteWidth: [Onnx_TensorProto.DataType: Int] = [
    .float: 4, .double: 8, .float16: 2, .bfloat16: 2, .int8: 1, .uint8: 1, .bool: 1, .int16: 2, .uint16: 2,
    .int32: 4, .uint32: 4, .int64: 8, .uint64: 8,
  ]
}

extension Float {
  /// IEEE 754 half precision to single, subnormals and infinities included.
  init(halfBits h: UInt16) {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = Int((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0 {
      let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
      self = sign != 0 ? -magnitude : magnitude
    } else if exponent == 31 {
      self = Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    } else {
      self = Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
    }
  }
}

/// Writes constants as TensorProtos: fp32 and 8-bit types as raw little-endian bytes.
enum TensorEncoder {
  static func proto(_ name: String, _ tensor: Tensor<Float>) -> Onnx_TensorProto {
    var p = Onnx_TensorProto()
    p.name = name
    p.dims = tensor.shape.map { Int64($0) }
    p.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    p.rawData = tensor.contiguous().withUnsafeBufferPointer { Data(buffer: $0) }
    return p
  }

  static func proto(_ name: String, shape: [Int], int8 values: [Int8]) -> Onnx_TensorProto {
    var p = Onnx_TensorProto()
    p.name = name
    p.dims = shape.map { Int64($0) }
    p.dataType = Int32(Onnx_TensorProto.DataType.int8.rawValue)
    p.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
    return p
  }

  static func proto(_ name: String, shape: [Int], uint8 values: [UInt8]) -> Onnx_TensorProto {
    var p = Onnx_TensorProto()
    p.name = name
    p.dims = shape.map { Int64($0) }
    p.dataType = Int32(Onnx_TensorProto.DataType.uint8.rawValue)
    p.rawData = Data(values)
    return p
  }

  static func proto(_ name: String, shape: [Int], int64 values: [Int]) -> Onnx_TensorProto {
    var p = Onnx_TensorProto()
    p.name = name
    p.dims = shape.map { Int64($0) }
    p.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
    p.int64Data = values.map { Int64($0) }
    return p
  }
}
