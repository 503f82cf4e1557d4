import CKernels
import LatheTensor
import LatheTestSupport
import XCTest

extension SeededGenerator {
  mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) } }
  mutating func signedBytes(_ count: Int) -> [Int8] {
    (0..<count).map { _ in Int8.random(in: -128...127, using: &self) }
  }
  mutating func floats(_ count: Int, _ range: ClosedRange<Float>) -> [Float] {
    (0..<count).map { _ in Float.random(in: range, using: &self) }
  }
}

/// Packs W [n, k] for the int8 GEMM.
func packWeights(_ w: [Int8], n: Int, k: Int) -> [UInt8] {
  var packed = [UInt8](repeating: 0xAA, count: lk_qgemm_pack_size(Int32(n), Int32(k)))
  packed.withUnsafeMutableBytes { lk_qgemm_pack(w, Int32(n), Int32(k), $0.baseAddress!) }
  return packed
}

/// Quantization parameters of one test case, and the exact real-valued output stage.
struct OutputStage {
  var aZeroPoint: Int32
  var aScale: Float
  var wScale: [Float]
  var bias: [Float]?
  var relu: Bool
  var outScale: Float = 1
  var outZeroPoint: Int32 = 0

  /// Calls `body` with the C struct pointing into this value's arrays.
  func withC<R>(_ body: (UnsafePointer<lk_qoutput>) -> R) -> R {
    // Bias or not, the arrays stay alive (and in place) for the whole call.
    let biasValues = bias ?? []
    return wScale.withUnsafeBufferPointer { ws in
      biasValues.withUnsafeBufferPointer { bs in
        var q = lk_qoutput(
          a_zero_point: aZeroPoint, a_scale: aScale, w_scale: ws.baseAddress, bias: bias == nil ? nil : bs.baseAddress,
          relu: relu ? 1 : 0, out_scale: outScale, out_zero_point: outZeroPoint)
        return body(&q)
      }
    }
  }

  /// v for column j from the raw accumulator and the column's weight sum, in Double.
  func real(acc: Int64, wsum: Int64, column j: Int) -> Double {
    var v = Double(acc - Int64(aZeroPoint) * wsum) * Double(aScale * wScale[j])
    if let bias { v += Double(bias[j]) }
    return relu ? max(v, 0) : v
  }

  /// The u8 the kernel must write for real value v, or nil when v / outScale lies so near a
  /// rounding tie that float arithmetic may land on either side (then ±1 is accepted).
  func requantized(_ v: Double) -> (value: Int, nearTie: Bool) {
    let t = v / Double(outScale)
    let fraction = abs(t - t.rounded(.down) - 0.5)
    let r = Int(t.rounded(.toNearestOrEven)) + Int(outZeroPoint)
    return (min(max(r, 0), 255), fraction < 1e-2 * max(1, abs(t) / 64))
  }
}

/// Asserts |a - b| <= tolerance * max(1, |b|).
func assertClose(
  _ a: Float, _ b: Double, _ tolerance: Double, _ message: @autoclosure () -> String, file: StaticString = #filePath,
  line: UInt = #line
) {
  if abs(Double(a) - b) > tolerance * max(1, abs(b)) {
    XCTFail("\(message()): got \(a), expected \(b)", file: file, line: line)
  }
}
