import Foundation
import LatheTensor

/// The float tensors of a Hugging Face model.safetensors as fp32, whichever of F32, F16 and BF16
/// the file stores them in (checkpoints are published in all three). Tensors of other dtypes
/// (BERT's I64 `position_ids` buffer) are listed but not loaded: a checkpoint opener asks only
/// for weights, and one of those in an integer dtype is an error naming it.
public struct HuggingFaceTensors {
  public let file: String
  private var floats: [String: Tensor<Float>]
  /// Every tensor's dtype and shape by name, loaded or not, for messages.
  public private(set) var listing: [String: (dtype: String, shape: [Int])]

  public static let floatDTypes = ["F32", "F16", "BF16"]

  public static func read(from url: URL) throws -> HuggingFaceTensors {
    let header = try SafetensorsHeader.read(headerOf: url)
    let bytes = try FileBytes.read(url)
    guard bytes.count == header.dataStart + (header.entries.last?.end ?? 0) else {
      throw LatheIOError.unreadable(file: url.path, reason: "the file changed while it was read")
    }
    var floats: [String: Tensor<Float>] = [:]
    var listing: [String: (dtype: String, shape: [Int])] = [:]
    bytes.withUnsafeBytes { raw in
      for entry in header.entries {
        listing[entry.name] = (entry.dtypeName, entry.shape)
        let start = header.dataStart + entry.begin
        let data = UnsafeRawBufferPointer(rebasing: raw[start..<(header.dataStart + entry.end)])
        let decoded: Tensor<Float>?
        switch entry.dtypeName {
        case "F32":
          decoded = Tensor(shape: entry.shape) { out in Self.decode(data, into: out) { Float(bitPattern: $0) } }
        case "F16": decoded = Tensor(shape: entry.shape) { out in Self.decode(data, into: out, Self.half) }
        case "BF16":
          decoded = Tensor(shape: entry.shape) { out in
            Self.decode(data, into: out) { (bits: UInt16) in Float(bitPattern: UInt32(bits) << 16) }
          }
        default: decoded = nil
        }
        floats[entry.name] = decoded
      }
    }
    return HuggingFaceTensors(file: url.path, floats: floats, listing: listing)
  }

  /// Little-endian elements of `Bits` mapped to floats.
  private static func decode<Bits: FixedWidthInteger>(
    _ data: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<Float>, _ map: (Bits) -> Float
  ) {
    let size = MemoryLayout<Bits>.size
    for i in 0..<out.count {
      out[i] = map(Bits(littleEndian: data.loadUnaligned(fromByteOffset: i * size, as: Bits.self)))
    }
  }

  /// IEEE half precision to single, subnormals, infinities and NaNs included.
  static func half(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = Int(h >> 10) & 0x1f
    let mantissa = UInt32(h & 0x3ff)
    switch exponent {
    case 0:
      // Zero or subnormal: mantissa · 2⁻²⁴.
      let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
      return sign == 0 ? magnitude : -magnitude
    case 0x1f: return Float(bitPattern: sign | 0x7f80_0000 | (mantissa << 13))
    default: return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }
  }

  /// The tensor called `name`, which must exist, be a float dtype and have `shape`.
  public func tensor(_ name: String, shape: [Int]) throws -> Tensor<Float> {
    guard let entry = listing[name] else {
      throw LatheIOError.invalid(
        file: file, field: "tensor \(JSONText.quoted(name))", expected: "a tensor of shape \(shape)",
        got: "no such tensor")
    }
    guard let tensor = floats[name] else {
      throw LatheIOError.unsupported(
        file: file, field: "tensor \(JSONText.quoted(name)) dtype", value: entry.dtype, supported: Self.floatDTypes)
    }
    guard tensor.shape == shape else {
      throw LatheIOError.invalid(
        file: file, field: "tensor \(JSONText.quoted(name)) shape", expected: "\(shape)", got: "\(tensor.shape)")
    }
    return tensor
  }

  /// The one of `prefixes` + `name` that the file holds (BERT's weights are saved with or
  /// without "bert."; GPT-2's with or without "transformer."), for error messages the first.
  public func name(_ name: String, prefixes: [String]) -> String {
    prefixes.map { $0 + name }.first { listing[$0] != nil } ?? prefixes[0] + name
  }
}
