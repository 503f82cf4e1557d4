import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheCompress

/// FP8 (E4M3, E5M2) and FP4 (E2M1 in MXFP4 and NVFP4) element codes and block scales against
/// the specs, and `weight-only format:` end to end.
final class FloatFormatTests: XCTestCase {
  /// A code's value from the spec's layout, written out here apart from MiniFloat.
  func specValue(_ code: Int, exponentBits: Int, mantissaBits: Int, bias: Int) -> Double {
    let sign = code >> (exponentBits + mantissaBits) & 1 == 1 ? -1.0 : 1.0
    let e = code >> mantissaBits & ((1 << exponentBits) - 1)
    let m = Double(code & ((1 << mantissaBits) - 1))
    let scale = Double(1 << mantissaBits)
    return e == 0 ? sign * pow(2, Double(1 - bias)) * m / scale : sign * pow(2, Double(e - bias)) * (1 + m / scale)
  }

  func testEveryE4M3CodeDecodesToTheSpecValue() {
    for code in 0..<256 {
      let got = MiniFloat.e4m3.decode(UInt8(code))
      if code & 0x7F == 0x7F {
        XCTAssertTrue(got.isNaN, "S.1111.111 is NaN (code \(code))")
      } else {
        XCTAssertEqual(Double(got), specValue(code, exponentBits: 4, mantissaBits: 3, bias: 7), "code \(code)")
      }
    }
    XCTAssertEqual(MiniFloat.e4m3.decode(0x7E), 448)
    XCTAssertEqual(MiniFloat.e4m3.decode(0xFE), -448)
    XCTAssertEqual(MiniFloat.e4m3.decode(0x01), 0x1p-9, "smallest subnormal")
    XCTAssertEqual(MiniFloat.e4m3.decode(0x08), 0x1p-6, "smallest normal")
    XCTAssertEqual(MiniFloat.e4m3.decode(0x38), 1)
    XCTAssertEqual(MiniFloat.e4m3.maxValue, 448)
    XCTAssertFalse((0..<256).contains { MiniFloat.e4m3.decode(UInt8($0)).isInfinite }, "E4M3FN has no infinities")
  }

  /// E5M2 is the top byte of an IEEE half: every code against Float16 (subnormals against the
  /// layout: CKernels sets DAZ, which flushes subnormal halves to 0 in the conversion).
  func testEveryE5M2CodeIsTheTopByteOfAHalf() {
    for code in 0..<256 {
      let half =
        code & 0x7C == 0
        ? Float(specValue(code, exponentBits: 5, mantissaBits: 2, bias: 15))
        : Float(Float16(bitPattern: UInt16(code) << 8))
      let got = MiniFloat.e5m2.decode(UInt8(code))
      if half.isNaN { XCTAssertTrue(got.isNaN, "code \(code)") } else { XCTAssertEqual(got, half, "code \(code)") }
    }
    XCTAssertEqual(MiniFloat.e5m2.maxValue, 57344)
    XCTAssertEqual(MiniFloat.e5m2.decode(0x01), 0x1p-16, "smallest subnormal")
    XCTAssertEqual(MiniFloat.e5m2.decode(0x7C), .infinity)
    XCTAssertTrue(MiniFloat.e5m2.decode(0x7D).isNaN)
  }

  func testE2M1CodesAreTheSpecsEightMagnitudes() {
    let magnitudes: [Float] = [0, 0.5, 1, 1.5, 2, 3, 4, 6]
    for code in 0..<16 {
      let want = (code >= 8 ? -1 : 1) * magnitudes[code & 7]
      XCTAssertEqual(MiniFloat.e2m1.decode(UInt8(code)), want, "code \(code)")
      XCTAssertEqual(
        Double(MiniFloat.e2m1.decode(UInt8(code))), specValue(code, exponentBits: 2, mantissaBits: 1, bias: 1))
    }
    XCTAssertEqual(MiniFloat.e2m1.maxValue, 6)
    XCTAssertNil(MiniFloat.e2m1.nanCode)
  }

  func testEncodingRoundsToNearestTiesToEvenAndSaturates() {
    let e4 = MiniFloat.e4m3
    let e5 = MiniFloat.e5m2
    let e2 = MiniFloat.e2m1
    // Every finite code encodes back to itself (−0 to +0).
    for f in [e4, e5, e2] {
      for code in 0..<(1 << f.bits) where f.decode(UInt8(code)).isFinite && f.decode(UInt8(code)) != 0 {
        XCTAssertEqual(f.encode(f.decode(UInt8(code))), UInt8(code), "\(f) code \(code)")
      }
    }
    // Ties go to the even code.
    XCTAssertEqual(e4.encode(1.0625), 0x38, "1 | 1.125: to 1 (even)")
    XCTAssertEqual(e4.encode(1.1875), 0x3A, "1.125 | 1.25: to 1.25 (even)")
    XCTAssertEqual(e4.encode(0x1p-10), 0, "half the smallest subnormal: to 0")
    XCTAssertEqual(e4.encode(3 * 0x1p-10), 0x02, "2^-9 | 2^-8: to 2^-8 (even)")
    XCTAssertEqual(e2.encode(0.25), 0)
    XCTAssertEqual(e2.encode(0.75), 2, "0.5 | 1: to 1 (code 2)")
    XCTAssertEqual(e2.encode(1.25), 2, "1 | 1.5: to 1 (code 2)")
    XCTAssertEqual(e2.encode(2.5), 4, "2 | 3: to 2 (code 4)")
    XCTAssertEqual(e2.encode(3.5), 6, "3 | 4: to 4 (code 6)")
    XCTAssertEqual(e2.encode(5), 6, "4 | 6: to 4 (code 6)")
    XCTAssertEqual(e2.encode(-5.01), 0x8 | 7, "past the tie: to −6")
    XCTAssertEqual(e5.encode(1.125), e5.encode(1), "1 | 1.25: to 1 (even)")
    // Saturation, infinities and NaN.
    XCTAssertEqual(e4.encode(464), 0x7E)
    XCTAssertEqual(e4.encode(1e9), 0x7E)
    XCTAssertEqual(e4.encode(-.infinity), 0xFE)
    XCTAssertEqual(e5.encode(1e6), 0x7B)
    XCTAssertEqual(e5.decode(e5.encode(.infinity)), 57344)
    XCTAssertEqual(e2.encode(100), 7)
    XCTAssertEqual(e4.encode(.nan), 0x7F)
    XCTAssertTrue(e5.decode(e5.encode(.nan)).isNaN)
    XCTAssertEqual(e2.encode(.nan), 0)
    // Random values: the nearest code by brute force (ties do not occur in random floats).
    var g = SeededGenerator(seed: 8)
    for f in [e4, e5, e2] {
      let finite = (0..<(1 << f.bits)).filter { f.decode(UInt8($0)).isFinite }
      for _ in 0..<2000 {
        let x = Float.random(in: -1...1, using: &g) * f.maxValue * Float.random(in: 0...1.2, using: &g)
        let best = finite.min { abs(f.decode(UInt8($0)) - x) < abs(f.decode(UInt8($1)) - x) }!
        XCTAssertEqual(f.decode(f.encode(x)), f.decode(UInt8(best)), "\(f) \(x)")
      }
    }
  }

  /// OCP MX v1.0: shared exponent floor(log2(amax)) − 2, elements saturating at ±6.
  func testMXFP4BlockScalesFollowTheSpec() {
    var row = [Float](repeating: 0, count: 96)
    row[0] = 5  // block 0: amax 5 → floor(log2 5) − 2 = 0 → 2^0; 5 ties between 4 and 6 → 4
    row[1] = -1.2
    row[32] = 0.7  // block 1: floor(log2 0.7) − 2 = −3 → 1/8; 0.7 · 8 = 5.6 → 6 → 0.75
    row[33] = 7.9 / 8  // block 1 too, larger: amax 0.9875 → exponent −1 − 2 = −3; 7.9 → 6
    // block 2: all zeros
    let w = FloatCodedWeights(quantizing: Tensor(shape: [1, 96], scalars: row), format: .mxfp4)
    XCTAssertEqual(w.blockScales, [127, 124, 0])
    let d = w.dequantized().scalars
    XCTAssertEqual(d[0], 4)
    XCTAssertEqual(d[1], -1)
    XCTAssertEqual(d[32], 0.75)
    XCTAssertEqual(d[33], 0.75, "7.9 saturates to 6 · 2^-3")
    XCTAssertTrue(d[64...].allSatisfy { $0 == 0 })
  }

  /// NVFP4: the tensor max maps to 448 · 6, so it is exact; block scales are E4M3.
  func testNVFP4ScalesKeepTheTensorMaxExact() {
    var g = SeededGenerator(seed: 9)
    var values = (0..<64).map { _ in Float.random(in: -0.1...0.1, using: &g) }
    values[20] = -0.9
    let w = FloatCodedWeights(quantizing: Tensor(shape: [2, 32], scalars: values), format: .nvfp4)
    XCTAssertEqual(w.tensorScale, 0.9 / (448 * 6))
    XCTAssertEqual(w.blockScales[1], 0x7E, "the block holding the tensor max gets scale 448")
    XCTAssertEqual(w.dequantized().scalars[20], -0.9, accuracy: 1e-7)
    for (b, code) in w.blockScales.enumerated() {
      let bound = values[(b * 16)..<(b * 16 + 16)].map(abs).max()!
      XCTAssertEqual(code, MiniFloat.e4m3.encode(bound / 6 / w.tensorScale), "block \(b)")
    }
  }

  func testStoredBitsPerWeight() {
    var g = SeededGenerator(seed: 10)
    let weight = Tensor<Float>.uniform([64, 256], low: -1, high: 1, generator: &g)
    let weights = 64 * 256
    for (format, bits) in [
      (FloatWeightFormat.mxfp4, 4.25), (.nvfp4, 4.5 + 32.0 / Double(weights)), (.fp8E4M3, 8 + 32.0 / 256),
      (.fp8E5M2, 8 + 32.0 / 256),
    ] {
      let layer = FloatCodedLinear(weights: FloatCodedWeights(quantizing: weight, format: format), bias: nil)
      XCTAssertEqual(layer.statistics.bitsPerParameter, bits, accuracy: 1e-12, format.rawValue)
    }
  }

  /// Each format through `weight-only`, saved and loaded: the same outputs after loading, and
  /// errors against the fp32 model in the formats' order (FP8 below FP4).
  func testFormatsRoundTripAndOrderByError() throws {
    let data = blobSplit()
    let model = trainedDigitsMLP(data)
    let x = data.test.inputs
    let reference = logits(model, x)
    let folder = try temporaryDirectory(self)
    var error: [FloatWeightFormat: Double] = [:]
    for format in FloatWeightFormat.allCases {
      let quantized = try technique("weight-only", [("format", .string(format.rawValue))])
        .applied(to: model, context: context(data))
      let layers = quantized.nodes.compactMap { $0.layer as? FloatCodedLinear }
      XCTAssertEqual(layers.count, 2, format.rawValue)
      XCTAssertTrue(layers.allSatisfy { $0.kernelName.contains("emulated") })
      let url = folder.appendingPathComponent("\(format.rawValue).lathe")
      let loaded = try deployedRoundTrip(quantized, to: url)
      let before = logits(quantized, x)
      XCTAssertEqual(logits(loaded, x), before, "\(format.rawValue): outputs change after save and load")
      for (a, b) in zip(loaded.nodes.compactMap { $0.layer as? FloatCodedLinear }, layers) {
        XCTAssertEqual(a.weights, b.weights)
      }
      error[format] = zip(before, reference).map { Double(abs($0 - $1)) }.reduce(0, +) / Double(before.count)
    }
    for fp8 in [FloatWeightFormat.fp8E4M3, .fp8E5M2] {
      for fp4 in [FloatWeightFormat.mxfp4, .nvfp4] {
        XCTAssertLessThan(error[fp8]!, error[fp4]!, "\(fp8.rawValue) against \(fp4.rawValue): \(error)")
      }
    }
    XCTAssertLessThan(error[.fp8E4M3]!, error[.fp8E5M2]!, "3 mantissa bits against 2: \(error)")
    XCTAssertGreaterThan(error[.fp8E4M3]!, 0, "quantization changes something")
  }

  func testConfigurationErrors() {
    XCTAssertThrowsError(try technique("weight-only", [("format", .string("fp6"))]))
    XCTAssertThrowsError(
      try technique("weight-only", [("format", .string("mxfp4")), ("target_bits", .float(6))])
    ) { XCTAssertTrue("\($0)".contains("target_bits"), "\($0)") }
  }

  func stored(_ w: FloatCodedWeights) -> [String: AnyTensor] {
    Dictionary(uniqueKeysWithValues: w.storedTensors.map { ($0.name, $0.tensor) })
  }

  func assertRefused(
    _ t: [String: AnyTensor], _ format: FloatWeightFormat, columns: Int = 33, mentions: String, line: UInt = #line
  ) {
    XCTAssertThrowsError(
      try FloatCodedWeights.restore(from: t, format: format, rows: 2, columns: columns, node: "fc"), line: line
    ) { error in
      XCTAssertTrue(error is ModelError, "\(error)", line: line)
      XCTAssertTrue("\(error)".contains(mentions), "\(format.rawValue): \(error)", line: line)
    }
  }

  /// 2 rows of 33 inputs: FP4 rows end in a half-used byte and a short block.
  func testMalformedTensorsThrowModelErrors() throws {
    var g = SeededGenerator(seed: 11)
    let weight = Tensor<Float>.uniform([2, 33], low: -1, high: 1, generator: &g)
    for format in FloatWeightFormat.allCases {
      let good = stored(FloatCodedWeights(quantizing: weight, format: format))
      let back = try FloatCodedWeights.restore(from: good, format: format, rows: 2, columns: 33, node: "fc")
      XCTAssertEqual(back, FloatCodedWeights(quantizing: weight, format: format), format.rawValue)
      var missing = good
      missing["weight_scale"] = nil
      assertRefused(missing, format, mentions: "fc.weight_scale")
      var shape = good
      shape["weight"] = .uint8(Tensor(shape: [2, 3], scalars: [UInt8](repeating: 0, count: 6)))
      assertRefused(shape, format, mentions: "fc.weight")
      assertRefused(good, format, columns: 40, mentions: "fc.weight")
      var type = good
      type["weight"] = .float32(weight)
      assertRefused(type, format, mentions: "U8")
    }
    func bytes(_ t: AnyTensor?) -> [UInt8] {
      guard case .uint8(let u)? = t else { return [] }
      return u.scalars
    }
    for (format, code, what) in [(FloatWeightFormat.fp8E4M3, UInt8(0x7F), "NaN"), (.fp8E5M2, 0x7C, "infinite")] {
      var t = stored(FloatCodedWeights(quantizing: weight, format: format))
      var codes = bytes(t["weight"])
      codes[5] = code
      t["weight"] = .uint8(Tensor(shape: [2, 33], scalars: codes))
      assertRefused(t, format, mentions: what)
      var scale = stored(FloatCodedWeights(quantizing: weight, format: format))
      scale["weight_scale"] = .float32(Tensor(shape: [2], scalars: [1, 0]))
      assertRefused(scale, format, mentions: "positive")
    }
    var mx = stored(FloatCodedWeights(quantizing: weight, format: .mxfp4))
    mx["weight_scale"] = .uint8(Tensor(shape: [2, 2], scalars: [127, 255, 127, 127]))
    assertRefused(mx, .mxfp4, mentions: "0xff")
    var nv = stored(FloatCodedWeights(quantizing: weight, format: .nvfp4))
    var nvScales = bytes(nv["weight_scale"])
    nvScales[1] |= 0x80
    nv["weight_scale"] = .uint8(Tensor(shape: [2, 3], scalars: nvScales))
    assertRefused(nv, .nvfp4, mentions: "negative or NaN")
    var noTensorScale = stored(FloatCodedWeights(quantizing: weight, format: .nvfp4))
    noTensorScale["weight_tensor_scale"] = nil
    assertRefused(noTensorScale, .nvfp4, mentions: "weight_tensor_scale")
    var nibble = stored(FloatCodedWeights(quantizing: weight, format: .mxfp4))
    var packed = bytes(nibble["weight"])
    packed[16] |= 0x30  // row 0's last byte: its high nibble is past column 33
    nibble["weight"] = .uint8(Tensor(shape: [2, 17], scalars: packed))
    assertRefused(nibble, .mxfp4, mentions: "unused high nibble")
    // An unknown format in the layer spec.
    XCTAssertThrowsError(
      try CompressedLayers().makeLayer(
        LayerSpec(
          op: "float_coded_linear",
          attributes: ["in": .int(4), "out": .int(2), "bias": .bool(false), "format": .string("fp6")]))
    ) { XCTAssertTrue("\($0)".contains("format"), "\($0)") }
  }
}
