import LatheTensor

/// The floating-point weight formats of weight-only quantization (`format` in a pipeline).
public enum FloatWeightFormat: String, Sendable, CaseIterable {
  /// FP8 E4M3 codes, one fp32 scale per output row (row max → 448): 8 bits + 32 / in.
  case fp8E4M3 = "fp8-e4m3"
  /// FP8 E5M2 codes, one fp32 scale per output row (row max → 57344): 8 bits + 32 / in.
  case fp8E5M2 = "fp8-e5m2"
  /// OCP MX v1.0 MXFP4: blocks of 32 E2M1 codes sharing one E8M0 power of two: 4.25 bits.
  case mxfp4
  /// NVFP4: blocks of 16 E2M1 codes with an E4M3 block scale, and one fp32 scale for the
  /// tensor: 4.5 bits + 32 / weights.
  case nvfp4

  /// The element format.
  public var element: MiniFloat {
    switch self {
    case .fp8E4M3: return .e4m3
    case .fp8E5M2: return .e5m2
    case .mxfp4, .nvfp4: return .e2m1
    }
  }

  /// Consecutive inputs of a row sharing a block scale (nil: one scale per row).
  public var blockSize: Int? {
    switch self {
    case .fp8E4M3, .fp8E5M2: return nil
    case .mxfp4: return 32
    case .nvfp4: return 16
    }
  }
}

/// A Linear weight [rows = out, columns = in] stored in an FP8 or FP4 format (`FloatWeightFormat`):
/// one element code per weight and the format's scales. Decoded once into fp32 to compute:
/// this CPU has no FP8/FP4 arithmetic, so the formats save file size and are emulated in
/// compute (the decoded values are exactly what FP8/FP4 hardware would multiply).
public struct FloatCodedWeights: Sendable, Equatable {
  public let format: FloatWeightFormat
  public let rows: Int
  public let columns: Int
  /// One element code per weight, row-major (FP4 codes in the low 4 bits).
  public let codes: [UInt8]
  /// FP8: the fp32 scale of each row [rows]. Empty for FP4.
  public let rowScales: [Float]
  /// FP4: each block's scale code [rows, blocks] (E8M0 for MXFP4, E4M3 for NVFP4). Empty for FP8.
  public let blockScales: [UInt8]
  /// NVFP4's fp32 scale of the whole tensor (1 for the others).
  public let tensorScale: Float

  public var blocksPerRow: Int { format.blockSize.map { (columns + $0 - 1) / $0 } ?? 0 }

  public init(
    format: FloatWeightFormat, rows: Int, columns: Int, codes: [UInt8], rowScales: [Float], blockScales: [UInt8],
    tensorScale: Float
  ) {
    self.format = format
    self.rows = rows
    self.columns = columns
    self.codes = codes
    self.rowScales = rowScales
    self.blockScales = blockScales
    self.tensorScale = tensorScale
  }

  /// An E8M0 code's power of two (code 255 is NaN).
  public static func e8m0(_ code: UInt8) -> Float {
    code == 255 ? .nan : Float(sign: .plus, exponent: Int(code) - 127, significand: 1)
  }

  /// The scale that multiplies element (row, column).
  func scale(row: Int, column: Int) -> Float {
    switch format {
    case .fp8E4M3, .fp8E5M2: return rowScales[row]
    case .mxfp4: return Self.e8m0(blockScales[row * blocksPerRow + column / 32])
    case .nvfp4: return MiniFloat.e4m3.decode(blockScales[row * blocksPerRow + column / 16]) * tensorScale
    }
  }

  /// The weights as fp32: each element's value times its scale.
  public func dequantized() -> Tensor<Float> {
    let table = (0..<256).map { format.element.decode(UInt8($0)) }
    return Tensor(shape: [rows, columns]) { out in
      for r in 0..<rows {
        for c in 0..<columns { out[r * columns + c] = table[Int(codes[r * columns + c])] * scale(row: r, column: c) }
      }
    }
  }

  /// Encodes an fp32 weight [out, in]:
  /// - FP8: scale = row max |w| / format max, codes = encode(w / scale).
  /// - MXFP4 (OCP MX v1.0, §6.3): per block of 32, shared exponent = floor(log2(max |w|)) − 2
  ///   (E2M1's largest exponent), clamped to E8M0's −127...127; elements = encode(w / 2^exp),
  ///   saturating at ±6 (a block max up to 2^(e+1) − ulp maps to at most 7.99 → 6).
  /// - NVFP4 (NVIDIA's recipe): tensor scale = max |W| / (448 · 6); per block of 16, block
  ///   scale = E4M3(max |w| / 6 / tensor scale); elements = encode(w / (block scale · tensor
  ///   scale)).
  /// All element and E4M3 scale encodings round to nearest, ties to even, and saturate.
  public init(quantizing weight: Tensor<Float>, format: FloatWeightFormat) {
    let rows = weight.shape[0]
    let columns = weight.count / max(rows, 1)
    let w = weight.contiguous().scalars
    let element = MiniFloat.Encoder(format.element)
    var codes = [UInt8](repeating: 0, count: w.count)
    var rowScales: [Float] = []
    var blockScales: [UInt8] = []
    var tensorScale: Float = 1
    switch format {
    case .fp8E4M3, .fp8E5M2:
      let top = format.element.maxValue
      for r in 0..<rows {
        let range = (r * columns)..<((r + 1) * columns)
        let bound = w[range].reduce(Float(0)) { max($0, abs($1)) }
        let scale = bound > 0 ? bound / top : 1
        rowScales.append(scale)
        for i in range { codes[i] = element.encode(w[i] / scale) }
      }
    case .mxfp4, .nvfp4:
      let size = format.blockSize!
      let blocks = (columns + size - 1) / size
      blockScales = [UInt8](repeating: 0, count: rows * blocks)
      let scaleEncoder = MiniFloat.Encoder(.e4m3)
      if format == .nvfp4 {
        let bound = w.reduce(Float(0)) { max($0, abs($1)) }
        tensorScale = bound > 0 ? bound / (448 * 6) : 1
      }
      for r in 0..<rows {
        for b in 0..<blocks {
          let range = (r * columns + b * size)..<(r * columns + min((b + 1) * size, columns))
          let bound = w[range].reduce(Float(0)) { max($0, abs($1)) }
          let scale: Float
          if format == .mxfp4 {
            // amax 0: any scale works; the smallest code keeps the elements 0.
            let shared = bound > 0 ? min(max(Int(bound.exponent) - 2, -127), 127) : -127
            blockScales[r * blocks + b] = UInt8(shared + 127)
            scale = Self.e8m0(UInt8(shared + 127))
          } else {
            let code = scaleEncoder.encode(bound / 6 / tensorScale)
            blockScales[r * blocks + b] = code
            scale = MiniFloat.e4m3.decode(code) * tensorScale
          }
          guard scale > 0 else { continue }
          for i in range { codes[i] = element.encode(w[i] / scale) }
        }
      }
    }
    self.init(
      format: format, rows: rows, columns: columns, codes: codes, rowScales: rowScales, blockScales: blockScales,
      tensorScale: tensorScale)
  }

  /// The file form: `weight` U8 [rows, columns] codes (FP8) or [rows, ceil(columns / 2)] with
  /// element 2i in the low nibble of byte i (FP4; an odd row ends with a zero high nibble);
  /// `weight_scale` F32 [rows] (FP8) or U8 [rows, blocks] (FP4); NVFP4 adds
  /// `weight_tensor_scale` F32 [1].
  var storedTensors: [(name: String, tensor: AnyTensor)] {
    switch format {
    case .fp8E4M3, .fp8E5M2:
      return [
        ("weight", .uint8(Tensor(shape: [rows, columns], scalars: codes))),
        ("weight_scale", .float32(Tensor(shape: [rows], scalars: rowScales))),
      ]
    case .mxfp4, .nvfp4:
      let width = (columns + 1) / 2
      var bytes = [UInt8](repeating: 0, count: rows * width)
      for r in 0..<rows {
        for c in 0..<columns { bytes[r * width + c / 2] |= codes[r * columns + c] << (4 * (c % 2)) }
      }
      return [
        ("weight", .uint8(Tensor(shape: [rows, width], scalars: bytes))),
        ("weight_scale", .uint8(Tensor(shape: [rows, blocksPerRow], scalars: blockScales))),
      ] + (format == .nvfp4 ? [("weight_tensor_scale", .float32(Tensor(shape: [1], scalars: [tensorScale])))] : [])
    }
  }

  /// Rebuilds the weights from a file's tensors, checking types, shapes, and that no code or
  /// scale is NaN, infinite, negative or zero where the format forbids it.
  static func restore(
    from tensors: [String: AnyTensor], format: FloatWeightFormat, rows: Int, columns: Int, node: String
  ) throws(ModelError) -> FloatCodedWeights {
    func bytes(_ name: String, shape: [Int]) throws(ModelError) -> [UInt8] {
      guard let t = tensors[name] else { throw .missingParameter("\(node).\(name)") }
      guard case .uint8(let u) = t else {
        throw .wrongType(parameter: "\(node).\(name)", expected: "U8", found: t.dtype.rawValue)
      }
      guard u.shape == shape else {
        throw .shapeMismatch(parameter: "\(node).\(name)", expected: shape, found: u.shape)
      }
      return u.scalars
    }
    func positiveFloats(_ name: String, shape: [Int]) throws(ModelError) -> [Float] {
      let p = Parameter(.zeros(shape), isTrainable: false)
      try p.restore(from: tensors[name], name: "\(node).\(name)")
      let values = p.value.scalars
      guard values.allSatisfy({ $0 > 0 }) else {
        throw .invalidValue(parameter: "\(node).\(name)", reason: "scales must be positive")
      }
      return values
    }
    let element = format.element
    switch format {
    case .fp8E4M3, .fp8E5M2:
      let codes = try bytes("weight", shape: [rows, columns])
      if let bad = codes.firstIndex(where: { !element.decode($0).isFinite }) {
        throw .invalidValue(
          parameter: "\(node).weight",
          reason: "code 0x\(String(codes[bad], radix: 16)) at \(bad) is NaN or infinite in \(format.rawValue)")
      }
      let scales = try positiveFloats("weight_scale", shape: [rows])
      return FloatCodedWeights(
        format: format, rows: rows, columns: columns, codes: codes, rowScales: scales, blockScales: [],
        tensorScale: 1)
    case .mxfp4, .nvfp4:
      let size = format.blockSize!
      let width = (columns + 1) / 2
      let packed = try bytes("weight", shape: [rows, width])
      var codes = [UInt8](repeating: 0, count: rows * columns)
      for r in 0..<rows {
        for c in 0..<columns { codes[r * columns + c] = (packed[r * width + c / 2] >> (4 * (c % 2))) & 15 }
        if columns % 2 == 1, packed[r * width + width - 1] >> 4 != 0 {
          throw .invalidValue(parameter: "\(node).weight", reason: "row \(r): the unused high nibble is not 0")
        }
      }
      let blocks = (columns + size - 1) / size
      let scales = try bytes("weight_scale", shape: [rows, blocks])
      var tensorScale: Float = 1
      if format == .mxfp4 {
        if let bad = scales.firstIndex(of: 255) {
          throw .invalidValue(parameter: "\(node).weight_scale", reason: "E8M0 code 0xff (NaN) at \(bad)")
        }
      } else {
        if let bad = scales.firstIndex(where: { $0 & 0x80 != 0 || MiniFloat.e4m3.decode($0).isNaN }) {
          throw .invalidValue(
            parameter: "\(node).weight_scale",
            reason: "E4M3 block scale 0x\(String(scales[bad], radix: 16)) at \(bad) is negative or NaN")
        }
        tensorScale = try positiveFloats("weight_tensor_scale", shape: [1])[0]
      }
      return FloatCodedWeights(
        format: format, rows: rows, columns: columns, codes: codes, rowScales: [], blockScales: scales,
        tensorScale: tensorScale)
    }
  }
}
