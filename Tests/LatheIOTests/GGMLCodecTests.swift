import XCTest

@testable import LatheIO

final class GGMLCodecTests: XCTestCase {
  // MARK: fp16

  func testHalfRoundTripsEveryHalfExactly() {
    for bits in UInt16.min...UInt16.max {
      let value = HalfFloat.value(bits)
      if value.isNaN {
        XCTAssertTrue(HalfFloat.value(HalfFloat.bits(value)).isNaN)
      } else {
        XCTAssertEqual(HalfFloat.bits(value), bits, "half 0x\(String(bits, radix: 16)) = \(value)")
      }
    }
  }

  func testHalfRoundsTiesToEvenAndSaturatesToInfinity() {
    // 1 + 2⁻¹¹ lies halfway between 1 and 1 + 2⁻¹⁰: ties go to the even fraction (1).
    XCTAssertEqual(HalfFloat.bits(1 + 0x1p-11), 0x3c00)
    // 1 + 3·2⁻¹¹ lies halfway between 1 + 2⁻¹⁰ (odd) and 1 + 2·2⁻¹⁰ (even).
    XCTAssertEqual(HalfFloat.bits(1 + 3 * 0x1p-11), 0x3c02)
    XCTAssertEqual(HalfFloat.bits(1 + 0x1p-11 + 0x1p-20), 0x3c01)
    XCTAssertEqual(HalfFloat.bits(65504), 0x7bff)
    XCTAssertEqual(HalfFloat.bits(65520), 0x7c00, "halfway to 2¹⁶ rounds to even, which is infinity")
    XCTAssertEqual(HalfFloat.bits(-1e10), 0xfc00)
    // Subnormals: the smallest is 2⁻²⁴; 2⁻²⁵ is a tie with zero (even), just above it rounds up.
    XCTAssertEqual(HalfFloat.bits(0x1p-24), 0x0001)
    XCTAssertEqual(HalfFloat.bits(0x1p-25), 0x0000)
    XCTAssertEqual(HalfFloat.bits(0x1p-25 + 0x1p-40), 0x0001)
    XCTAssertEqual(HalfFloat.bits(3 * 0x1p-25), 0x0002, "1.5 units ties to 2")
    XCTAssertEqual(HalfFloat.bits(-0.0), 0x8000)
    XCTAssertEqual(HalfFloat.bits(0x1p-14 - 0x1p-26), 0x0400, "rounds up out of the subnormals into the normals")
  }

  #if !(os(macOS) && arch(x86_64))
    /// Swift's own Float16 conversion agrees on many floats. Normal halves only: in this test
    /// process Swift's conversion flushes subnormal halves to zero (the exhaustive round trip
    /// above and the hand-made ties cover those).
    func testHalfMatchesSwiftFloat16() {
      var state: UInt64 = 0x9e37_79b9_7f4a_7c15
      for _ in 0..<200_000 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        // Exponents from 2⁻¹⁴ to 2¹⁷: normal and overflowing halves.
        let exponent = UInt32(113 + (state >> 33) % 32) << 23
        let value = Float(bitPattern: UInt32(truncatingIfNeeded: state >> 40) & 0x807f_ffff | exponent)
        XCTAssertEqual(HalfFloat.bits(value), Float16(value).bitPattern, "\(value)")
      }
    }
  #endif

  // MARK: hand-computed blocks

  func testQ80BlockLayoutAndRoundingHalfAwayFromZero() {
    // max|x| = 127, so d = 1 (fp16 0x3c00) and each x rounds to its level, halves away from 0.
    var x = [Float](repeating: 0, count: 32)
    x[0] = 127
    x[1] = -2.5
    x[2] = 0.5
    x[3] = -0.5
    x[4] = 1.49
    x[31] = -3
    let bytes = GGMLCodec.encode(x, as: .q80)
    var expected: [UInt8] = [0x00, 0x3c, 0x7f, 0xfd, 0x01, 0xff, 0x01] + [UInt8](repeating: 0, count: 26) + [0xfd]
    XCTAssertEqual(bytes, expected)
    let decoded = GGMLCodec.decode(bytes, as: .q80, count: 32)
    XCTAssertEqual(Array(decoded[0..<5]), [127, -3, 1, -1, 1])
    XCTAssertEqual(decoded[31], -3)

    // Scale 0.5 (amax 63.5): level = x / 0.5.
    x = [Float](repeating: 0.25, count: 32)
    x[7] = -63.5
    expected = [0x00, 0x38] + [UInt8](repeating: 0x01, count: 7) + [0x81] + [UInt8](repeating: 0x01, count: 24)
    XCTAssertEqual(GGMLCodec.encode(x, as: .q80), expected)
  }

  func testQ40BlockLayoutNibblesAndTruncation() {
    // The element of largest magnitude is -8, so d = -8 / -8 = 1 and it becomes level 0.
    var x = [Float](repeating: 0, count: 32)
    x[0] = -8  // level 0
    x[16] = 7  // 15
    x[17] = -0.6  // -0.6 + 8.5 = 7.9, truncated to 7
    x[2] = -0.4  // 8.1 → 8
    x[18] = 7.4  // 15.9 → 15
    let bytes = GGMLCodec.encode(x, as: .q40)
    // Byte j: element j in the low nibble, element j + 16 in the high one; zeros are level 8.
    let expected: [UInt8] = [0x00, 0x3c, 0xf0, 0x78, 0xf8] + [UInt8](repeating: 0x88, count: 13)
    XCTAssertEqual(bytes, expected)
    let decoded = GGMLCodec.decode(bytes, as: .q40, count: 32)
    XCTAssertEqual(decoded[0], -8)
    XCTAssertEqual(decoded[16], 7)
    XCTAssertEqual(decoded[17], -1)
    XCTAssertEqual(decoded[2], 0)
    XCTAssertEqual(decoded[18], 7)

    // A positive extreme gives a negative scale: +8 → d = -1 (0xbc00), level 0 → (0 - 8)·-1 = 8.
    var y = [Float](repeating: 0, count: 32)
    y[5] = 8
    let positive = GGMLCodec.encode(y, as: .q40)
    XCTAssertEqual(Array(positive[0..<2]), [0x00, 0xbc])
    XCTAssertEqual(positive[2 + 5], 0x80)
    XCTAssertEqual(GGMLCodec.decode(positive, as: .q40, count: 32)[5], 8)
  }

  func testQ4KDecodesScalesMinsAndNibblesByHand() {
    // d = 1, dmin = 0.5; sub-block 0: scale 2, min 4; sub-block 5: scale 37, min 19 (6 bits,
    // split into the nibbles of byte 9 and the top bits of bytes 1 and 5).
    var block = [UInt8](repeating: 0, count: 144)
    block[0...3] = [0x00, 0x3c, 0x00, 0x38]
    block[4 + 0] = 2
    block[4 + 4] = 4
    block[4 + 9] = 0x35
    block[4 + 1] = 0x80
    block[4 + 5] = 0x40
    // Sub-block 0 is group 0's low nibbles; sub-block 5 is group 2's high nibbles.
    block[16 + 0] = 0x07  // sub-block 0, element 0: q = 7; sub-block 1, element 0: q = 0
    block[16 + 64 + 3] = 0xa0  // sub-block 5, element 3: q = 10
    let y = GGMLCodec.decode(block, as: .q4K, count: 256)
    XCTAssertEqual(y[0], 2 * 7 - 0.5 * 4)
    XCTAssertEqual(y[1], -2)
    XCTAssertEqual(y[32], 0, "sub-block 1 has scale and min 0")
    XCTAssertEqual(y[160 + 3], 37 * 10 - 0.5 * 19)
    XCTAssertEqual(y[160 + 4], -9.5)
    XCTAssertEqual(y[128], 0, "sub-block 4's scale is the low nibble of byte 8: 0")
  }

  // MARK: ggml's reference output

  /// The inputs the expected bytes were made from: exact in Float (small integers over powers
  /// of two). Sub-block 5 is all positive (its min clamps to 0); the second super-block is zero
  /// but for one constant sub-block (the max == min path).
  static func referenceInput(_ i: Int) -> Float {
    if i >= 256 { return (256 + 64..<256 + 96).contains(i) ? 0.75 : 0 }
    if i / 32 == 5 { return Float((i * 29) % 61 + 3) / 16 }
    return Float(((i * 73 + 11) % 199) - 60) * Float(1 + (i / 32) % 4) / 64
  }

  /// Expected bytes from ggml's own reference functions (`quantize_row_q8_0_ref`,
  /// `quantize_row_q4_0_ref`, `quantize_row_q4_K_ref` in ggml-org/ggml `src/ggml-quants.c` at
  /// commit d99724f2, compiled with gcc at -O0 and -O2, which agree) on `referenceInput`: the first
  /// 64 values for the 32-blocks, all 512 for Q4_K.
  static let ggmlQ80 =
    "5124d3165ae5296cf83b7f0a4ed91d60ec2f73fe42cd1154e02367f236790548d41759285ae6296df93c7f0b4eda1d61ed3073ff42ce1155e12467f336790649d5185be7"
  static let ggmlQ40 = "48b41b8742ba7531a9642097530a8632b97550b842ba7531a8642097530a8632b96521a8"
  static let ggmlQ4K =
    "c022c12b5060affe0d1ab0fff0048f5fb0267bc2379ce358ae156ac1268bd2489d0459b0157ac1378ce348ad046ab026"
    + "48ae046ab0267bd2379de359ae156ac1268cd2489df459bf157bc1378ce348ae20951b81f77ce368de64da51c64bb247"
    + "ad33a92e951a81168ce378ed64d950c5378ce348ae046ab0267bd2379de359ae156ac1268cd2489d0459b0157bc1378c"
    + "8012000000003f0000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    + "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f00000000000000000000000000000000"
    + "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"

  /// Roughly Gaussian inputs, exact in Float (a sum of four 16-bit uniforms from a 64-bit LCG,
  /// over 2¹⁶, centred, times a power of two that changes every 32 elements): ragged values
  /// where Q4_K's search over trial scales changes the outcome, unlike the grid above.
  static func gaussianInputs(_ count: Int) -> [Float] {
    var state: UInt64 = 12345
    func next16() -> UInt32 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return UInt32(state >> 48)
    }
    return (0..<count).map { i in
      let sum = Int32(next16() + next16() + next16() + next16()) - 2 * 65536
      return Float(sum) / 65536 * (Float(1 << ((i / 32) % 4)) / 8)
    }
  }

  /// ggml's reference functions (as above) on `gaussianInputs(512)`.
  static let ggmlGaussianQ4K =
    "d31834250952a0f9064e94bf670187ff76768c6534907764068052a64b41a576a8356759b2874ff65857198348815555"
    + "88d764ca8ea1ed5373a0df6766f0a7e138531392f769e9587807813dc07195239d6b75a7b98ab1f395c46cea8983d4a1"
    + "d0620a69d854cd79dd6717c0d89e94f70ff87d2afa549dfa76e77bd5c4fb90a917e8a79dae89888fe55956f77deb9996"
    + "0d1a0326060d59bf070a58bf569bbc3e6f15cac9a4a49b968fb224499d1dfa9c0076a82fa46d56296d985c1c22432e0b"
    + "dacff76084a47d899638624d9a37c9926499d88a688207b6a64aca76a495957c814728c0677d4b161a56427471b3ea32"
    + "137e9399433667b8903488fb895d0441d996fc88677c6b6684979f2970ef8b6d6529a67c83ba03cc848698a19049a3a4"
  static let ggmlGaussianQ80 =
    "721608064ef0eea716ea00adcdff49bcf2041af81329d00b7f01211229dc22c1f5f7d919090a11f1cc2209fc9e0fe235"
    + "dbde2aff2ec4efed4113d67fece8a81ad616ebe0"
  static let ggmlGaussianQ40 =
    "65a668887359b97e0789687d5ba863cc9998cea957c797994b76b7089ea7ea65ba7a95a8"

  func testEncodersMatchGGMLReferenceBytesOnRaggedInputs() {
    let x = Self.gaussianInputs(512)
    XCTAssertEqual(hex(GGMLCodec.encode(x, as: .q4K)), Self.ggmlGaussianQ4K)
    XCTAssertEqual(hex(GGMLCodec.encode(Array(x[0..<64]), as: .q80)), Self.ggmlGaussianQ80)
    XCTAssertEqual(hex(GGMLCodec.encode(Array(x[0..<64]), as: .q40)), Self.ggmlGaussianQ40)
  }

  func testEncodersMatchGGMLReferenceBytes() {
    let x = (0..<512).map(Self.referenceInput)
    XCTAssertEqual(hex(GGMLCodec.encode(Array(x[0..<64]), as: .q80)), Self.ggmlQ80)
    XCTAssertEqual(hex(GGMLCodec.encode(Array(x[0..<64]), as: .q40)), Self.ggmlQ40)
    XCTAssertEqual(hex(GGMLCodec.encode(x, as: .q4K)), Self.ggmlQ4K)
  }

  func testQ4KDecodesGGMLBytesAsDequantizeRowDoes() {
    // dequantize_row_q4_K's first 8 outputs on the reference bytes, printed with %.9g.
    let expected: [Float] = [
      -0.787506104, 0.478118896, 1.5328064, -0.365631104, 0.689056396, 1.7437439, -0.154693604, 0.899993896,
    ]
    let y = GGMLCodec.decode(bytes(Self.ggmlQ4K), as: .q4K, count: 512)
    XCTAssertEqual(Array(y[0..<8]), expected)
    // The second super-block: zero but for the constant 0.75 of sub-block 2.
    XCTAssertEqual(y[256 + 64], 0.75, accuracy: 0.75 / 1000)
    XCTAssertEqual(y[256 + 10], 0)
  }

  // MARK: round-trip error

  func testRoundTripErrorStaysWithinEachFormatsBound() {
    var state: UInt64 = 42
    func gaussian() -> Float {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      let u1 = (Double(state >> 11) + 1) / 0x1p53
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      let u2 = Double(state >> 11) / 0x1p53
      return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
    // Blocks of different scales, as a network's rows have.
    let x = (0..<4096).map { i in gaussian() * Float(1 + (i / 256) % 5) * 0.05 }
    for (type, relative) in [(GGMLType.f16, 1e-3), (.q80, 0.01), (.q40, 0.12), (.q4K, 0.1)] {
      let y = GGMLCodec.decode(GGMLCodec.encode(x, as: type), as: type, count: x.count)
      let error = zip(x, y).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +).squareRoot()
      let norm = x.map { Double($0) * Double($0) }.reduce(0, +).squareRoot()
      XCTAssertLessThan(error / norm, relative, "\(type)")
      XCTAssertGreaterThan(error, 0, "\(type) loses something")
    }
    // Per element, the 32-blocks are within one step of their block's scale (Q4_0's clamp at
    // level 15 can cost a whole step), plus the fp16 rounding of that scale.
    for (type, steps, levels) in [(GGMLType.q80, Float(0.5), Float(127)), (.q40, 1, 8)] {
      let y = GGMLCodec.decode(GGMLCodec.encode(x, as: type), as: type, count: x.count)
      for b in 0..<(x.count / 32) {
        let block = x[(32 * b)..<(32 * b + 32)]
        let amax = block.map(abs).max()!
        let d = amax / levels
        for i in block.indices {
          XCTAssertLessThanOrEqual(abs(x[i] - y[i]), d * steps + amax * 0x1p-10, "\(type) element \(i)")
        }
      }
    }
  }

  func testZeroBlocksEncodeToZeroScalesAndDecodeToZero() {
    let zeros = [Float](repeating: 0, count: 256)
    for type in GGMLType.codable {
      let y = GGMLCodec.decode(GGMLCodec.encode(zeros, as: type), as: type, count: 256)
      XCTAssertEqual(y, zeros, "\(type)")
    }
  }

  func testBitsPerWeight() {
    XCTAssertEqual(GGMLType.q80.bitsPerWeight, 8.5)
    XCTAssertEqual(GGMLType.q40.bitsPerWeight, 4.5)
    XCTAssertEqual(GGMLType.q4K.bitsPerWeight, 4.5)
    XCTAssertEqual(GGMLType.f16.bitsPerWeight, 16)
  }

  private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

  private func bytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    return stride(from: 0, to: digits.count, by: 2).map {
      UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)!
    }
  }
}
