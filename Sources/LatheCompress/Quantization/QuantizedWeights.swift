import CKernels
import Foundation
import LatheTensor

/// A weight matrix [out, k] in signed 8 bits with one scale per output row (or one for all),
/// packed once for the int8 GEMM kernel.
public final class QuantizedWeights: @unchecked Sendable {
  public let rows: Int
  public let columns: Int
  public let values: [Int8]
  public let scales: [Float]
  public let granularity: QuantizationGranularity
  /// The kernel's packed layout (64-byte aligned), read-only after init.
  let packed: UnsafeMutableRawPointer

  public init(values: [Int8], rows: Int, columns: Int, scales: [Float], granularity: QuantizationGranularity) {
    precondition(values.count == rows * columns && scales.count == rows)
    self.rows = rows
    self.columns = columns
    self.values = values
    self.scales = scales
    self.granularity = granularity
    let size = lk_qgemm_pack_size(Int32(rows), Int32(columns))
    packed = UnsafeMutableRawPointer.allocate(byteCount: max(size, 64), alignment: 64)
    values.withUnsafeBufferPointer { lk_qgemm_pack($0.baseAddress!, Int32(rows), Int32(columns), packed) }
  }

  deinit { packed.deallocate() }

  /// Quantizes an fp32 weight [out, ...] seen as [out, k]: symmetric, scale = max|w| / 127.
  public convenience init(quantizing weight: Tensor<Float>, granularity: QuantizationGranularity) {
    let rows = weight.shape[0]
    let columns = weight.count / rows
    let w = weight.scalars
    var bounds = (0..<rows).map { r in w[(r * columns)..<((r + 1) * columns)].reduce(Float(0)) { max($0, abs($1)) } }
    if granularity == .perTensor { bounds = [Float](repeating: bounds.max() ?? 0, count: rows) }
    let scales = bounds.map { QuantizationParameters.signed(bound: $0).scale }
    var q = [Int8](repeating: 0, count: w.count)
    w.withUnsafeBufferPointer { src in
      q.withUnsafeMutableBufferPointer { dst in
        for r in 0..<rows {
          lk_quantize_s8(src.baseAddress! + r * columns, columns, scales[r], dst.baseAddress! + r * columns)
        }
      }
    }
    self.init(values: q, rows: rows, columns: columns, scales: scales, granularity: granularity)
  }

  /// The weights as real numbers again (what the int8 model effectively computes with).
  public func dequantized(shape: [Int]) -> Tensor<Float> {
    Tensor(shape: shape) { out in
      for r in 0..<rows {
        for c in 0..<columns { out[r * columns + c] = Float(values[r * columns + c]) * scales[r] }
      }
    }
  }

  func storedTensors(shape: [Int]) -> [(name: String, tensor: AnyTensor)] {
    [
      ("weight", .int8(Tensor(shape: shape, scalars: values))),
      ("weight_scale", .float32(Tensor(shape: [rows], scalars: scales))),
    ]
  }

  static func restore(
    from tensors: [String: AnyTensor], shape: [Int], granularity: QuantizationGranularity, node: String
  ) throws(ModelError) -> QuantizedWeights {
    guard let stored = tensors["weight"] else { throw .missingParameter("\(node).weight") }
    guard case .int8(let w) = stored else {
      throw .wrongType(parameter: "\(node).weight", expected: "I8", found: stored.dtype.rawValue)
    }
    guard w.shape == shape else { throw .shapeMismatch(parameter: "\(node).weight", expected: shape, found: w.shape) }
    let rows = shape[0]
    let scaleTensor = Parameter(.zeros([rows]), isTrainable: false)
    try scaleTensor.restore(from: tensors["weight_scale"], name: "\(node).weight_scale")
    let scales = scaleTensor.value.scalars
    guard scales.allSatisfy({ $0 > 0 }) else {
      throw .invalidValue(parameter: "\(node).weight_scale", reason: "scales must be positive")
    }
    return QuantizedWeights(
      values: w.scalars, rows: rows, columns: w.count / rows, scales: scales, granularity: granularity)
  }
}

/// How a quantized layer gets its input's quantization parameters.
public enum InputQuantization: Sendable, Equatable {
  case fixed(QuantizationParameters)
  case dynamic(symmetric: Bool)

  /// The parameters `x` is quantized with: the fixed ones, or from its range.
  func parameters(for x: Tensor<Float>) -> QuantizationParameters {
    switch self {
    case .fixed(let p): return p
    case .dynamic(let symmetric):
      var low: Float = 0
      var high: Float = 0
      x.withUnsafeBufferPointer { lk_minmax_f32($0.baseAddress!, $0.count, &low, &high) }
      return .unsigned(low: low, high: high, symmetric: symmetric)
    }
  }

  /// Quantizes `x` to u8, returning the bytes and the parameters used.
  func quantize(_ x: Tensor<Float>) -> ([UInt8], QuantizationParameters) {
    let parameters = parameters(for: x)
    return x.withUnsafeBufferPointer { src in
      var q = [UInt8](repeating: 0, count: src.count)
      q.withUnsafeMutableBufferPointer {
        lk_quantize_u8(src.baseAddress!, src.count, parameters.scale, parameters.zeroPoint, $0.baseAddress!)
      }
      return (q, parameters)
    }
  }

  var attributes: [String: AttributeValue] {
    switch self {
    case .fixed: return ["activations": .string("static")]
    case .dynamic(let symmetric): return ["activations": .string("dynamic"), "symmetric": .bool(symmetric)]
    }
  }

  var storedTensors: [(name: String, tensor: AnyTensor)] {
    guard case .fixed(let p) = self else { return [] }
    return [
      ("input_scale", .float32(Tensor(shape: [1], scalars: [p.scale]))),
      ("input_zero_point", .int32(Tensor(shape: [1], scalars: [p.zeroPoint]))),
    ]
  }

  static func restore(spec: LayerSpec, tensors: [String: AnyTensor], node: String) throws(ModelError)
    -> InputQuantization
  {
    if case .string("dynamic") = spec.attributes["activations"] {
      if case .bool(let s) = spec.attributes["symmetric"] { return .dynamic(symmetric: s) }
      return .dynamic(symmetric: false)
    }
    let scale = Parameter(.zeros([1]), isTrainable: false)
    try scale.restore(from: tensors["input_scale"], name: "\(node).input_scale")
    guard case .int32(let zp) = tensors["input_zero_point"], zp.count == 1, (0...255).contains(zp.scalars[0]) else {
      throw .invalidValue(parameter: "\(node).input_zero_point", reason: "expected one I32 in 0...255")
    }
    guard scale.value.scalars[0] > 0 else {
      throw .invalidValue(parameter: "\(node).input_scale", reason: "must be positive")
    }
    return .fixed(QuantizationParameters(scale: scale.value.scalars[0], zeroPoint: zp.scalars[0]))
  }
}
