import Foundation
import LatheIO
import LatheTensor
import XCTest

@testable import LatheCompress

final class QuantizationTests: XCTestCase {
  func testUnsignedParametersCoverTheRangeAndZero() {
    for (low, high) in [(Float(-1.3), Float(2.7)), (0.2, 5), (-4, -0.5), (-0.001, 100), (0, 0)] {
      let q = QuantizationParameters.unsigned(low: low, high: high, symmetric: false)
      let (lo, hi) = (min(low, 0), max(high, 0))
      XCTAssertTrue((0...255).contains(q.zeroPoint), "\(low)...\(high)")
      XCTAssertEqual(q.scale, max(hi - lo, 1e-8) / 255, accuracy: 1e-7)
      // The representable range reaches both ends within half a step.
      XCTAssertLessThanOrEqual(Float(0 - q.zeroPoint) * q.scale, lo + q.scale / 2, "\(low)...\(high)")
      XCTAssertGreaterThanOrEqual(Float(255 - q.zeroPoint) * q.scale, hi - q.scale / 2, "\(low)...\(high)")
      // Zero quantizes to the zero point and back to exactly zero.
      let (bytes, used) = InputQuantization.fixed(q).quantize(Tensor(shape: [3], scalars: [0, low, high]))
      XCTAssertEqual(used, q)
      XCTAssertEqual(Int32(bytes[0]), q.zeroPoint)
      XCTAssertEqual(Float(Int32(bytes[0]) - q.zeroPoint) * q.scale, 0)
      for (byte, real) in zip(bytes.dropFirst(), [low, high]) {
        XCTAssertEqual(Float(Int32(byte) - q.zeroPoint) * q.scale, real, accuracy: q.scale / 2 + 1e-6)
      }
    }
    XCTAssertEqual(QuantizationParameters.unsigned(low: 0.5, high: 3, symmetric: false).zeroPoint, 0)
    XCTAssertEqual(QuantizationParameters.unsigned(low: -3, high: -1, symmetric: false).zeroPoint, 255)
    let symmetric = QuantizationParameters.unsigned(low: -1, high: 3, symmetric: true)
    XCTAssertEqual(symmetric.zeroPoint, 128)
    XCTAssertEqual(symmetric.scale, 6 / 255, accuracy: 1e-7)
  }

  func testSignedScale() {
    XCTAssertEqual(QuantizationParameters.signed(bound: 2.54).scale, 0.02, accuracy: 1e-7)
    XCTAssertEqual(QuantizationParameters.signed(bound: 2.54).zeroPoint, 0)
    XCTAssertGreaterThan(QuantizationParameters.signed(bound: 0).scale, 0)
    let w = QuantizedWeights(
      quantizing: Tensor(shape: [2, 3], scalars: [1.27, -0.5, 0, 0.1, -0.2, 0.05]), granularity: .perChannel)
    XCTAssertEqual(w.values, [127, -50, 0, 64, -127, 32])
    XCTAssertEqual(w.scales[0], 0.01, accuracy: 1e-7)
    XCTAssertEqual(w.scales[1], 0.2 / 127, accuracy: 1e-9)
  }

  /// The worst error of an int8 product for one output: Σ|w|·s_a/2 + Σ|x|·s_w/2 + k·s_a·s_w/4.
  func bound(_ w: ArraySlice<Float>, _ x: ArraySlice<Float>, aScale: Float, wScale: Float) -> Float {
    let sw = w.reduce(0) { $0 + abs($1) }
    let sx = x.reduce(0) { $0 + abs($1) }
    return sw * aScale / 2 + sx * wScale / 2 + Float(w.count) * aScale * wScale / 4 + 1e-4
  }

  func testQuantizedLinearIsWithinTheDerivedBound() {
    var g = SeededGenerator(seed: 21)
    let (n, k, batch) = (20, 50, 7)
    let w = Tensor<Float>.normal([n, k], std: 0.3, generator: &g)
    let b = Tensor<Float>.normal([n], generator: &g)
    let x = Tensor<Float>.uniform([batch, k], low: -1, high: 2, generator: &g)
    let linear = Linear(weight: Parameter(w), bias: Parameter(b))
    let reference = linear.forward([Variable(x)], context: &ForwardContext.scratchInference).value.scalars
    for granularity in QuantizationGranularity.allCases {
      let weights = QuantizedWeights(quantizing: w, granularity: granularity)
      let input = QuantizationParameters.unsigned(low: -1, high: 2, symmetric: false)
      for activations in [InputQuantization.fixed(input), .dynamic(symmetric: false)] {
        let layer = QuantizedLinear(weights: weights, bias: b, input: activations, relu: false)
        var forward = ForwardContext.inference
        let y = layer.forward([Variable(x)], context: &forward).value.scalars
        let (_, used) = activations.quantize(x)
        for r in 0..<batch {
          for o in 0..<n {
            let limit = bound(
              w.scalars[(o * k)..<((o + 1) * k)], x.scalars[(r * k)..<((r + 1) * k)], aScale: used.scale,
              wScale: weights.scales[o])
            XCTAssertLessThanOrEqual(abs(y[r * n + o] - reference[r * n + o]), limit, "\(granularity) \(activations)")
          }
        }
        let worst = zip(y, reference).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(worst, 0.1, "\(granularity) \(activations)")
      }
    }
    // The bound is tight enough to catch a result scaled wrong by a factor of two (what a
    // mixed-up activation or weight scale gives): most outputs would break it.
    let scales = QuantizedWeights(quantizing: w, granularity: .perChannel).scales
    let aScale = QuantizationParameters.unsigned(low: -1, high: 2, symmetric: false).scale
    var caught = 0
    for r in 0..<batch {
      for o in 0..<n {
        let doubled = 2 * (reference[r * n + o] - b.scalars[o]) + b.scalars[o]
        let limit = bound(
          w.scalars[(o * k)..<((o + 1) * k)], x.scalars[(r * k)..<((r + 1) * k)], aScale: aScale, wScale: scales[o])
        if abs(doubled - reference[r * n + o]) > limit { caught += 1 }
      }
    }
    XCTAssertGreaterThan(caught, batch * n * 9 / 10)
  }

  func testQuantizedLinearFoldsReLU() {
    var g = SeededGenerator(seed: 2)
    let w = Tensor<Float>.normal([6, 10], generator: &g)
    let x = Tensor<Float>.uniform([4, 10], low: 0, high: 1, generator: &g)
    let q = QuantizedWeights(quantizing: w, granularity: .perChannel)
    var forward = ForwardContext.inference
    let plain = QuantizedLinear(weights: q, bias: nil, input: .dynamic(symmetric: false), relu: false)
      .forward([Variable(x)], context: &forward).value.scalars
    let rectified = QuantizedLinear(weights: q, bias: nil, input: .dynamic(symmetric: false), relu: true)
      .forward([Variable(x)], context: &forward).value.scalars
    XCTAssertTrue(plain.contains { $0 < 0 })
    XCTAssertEqual(rectified, plain.map { max($0, 0) })
  }

  func testQuantizedConvolutionIsWithinTheDerivedBound() {
    var g = SeededGenerator(seed: 5)
    let conv = Conv2d(inChannels: 3, outChannels: 5, kernel: 3, stride: 1, padding: 1, generator: &g)
    conv.bias!.value = .normal([5], std: 0.2, generator: &g)
    let x = Tensor<Float>.uniform([3, 3, 7, 6], low: 0, high: 1, generator: &g)
    let reference = conv.forward([Variable(x)], context: &ForwardContext.scratchInference).value.scalars
    let weights = QuantizedWeights(quantizing: conv.weight.value, granularity: .perChannel)
    let input = QuantizationParameters.unsigned(low: 0, high: 1, symmetric: false)
    let layer = QuantizedConv2d(
      weights: weights, bias: conv.bias!.value, input: .fixed(input), relu: false, inChannels: 3, kernelSize: [3, 3],
      stride: conv.stride, padding: conv.padding, dilation: conv.dilation)
    var forward = ForwardContext.inference
    let y = layer.forward([Variable(x)], context: &forward).value
    XCTAssertEqual(y.shape, [3, 5, 7, 6])
    let perFilter = 27
    let w = conv.weight.value.scalars
    for (i, (a, r)) in zip(y.scalars, reference).enumerated() {
      let o = (i / 42) % 5
      // Inputs are in [0, 1]: Σ|x| over a window is at most 27.
      let limit = bound(
        w[(o * perFilter)..<((o + 1) * perFilter)], ArraySlice(repeating: 1, count: perFilter),
        aScale: input.scale, wScale: weights.scales[o])
      XCTAssertLessThanOrEqual(abs(a - r), limit, "element \(i)")
    }
    XCTAssertLessThan(zip(y.scalars, reference).map { abs($0 - $1) }.max()!, 0.05)
  }

  func testPerChannelBeatsPerTensorOnRowsOfDifferentMagnitude() {
    var g = SeededGenerator(seed: 6)
    let rows: [Float] = [100, 1, 0.01]
    let w = Tensor<Float>(shape: [3, 40], scalars: (0..<120).map { rows[$0 / 40] * g.nextNormal() })
    func error(_ granularity: QuantizationGranularity) -> [Double] {
      let back = QuantizedWeights(quantizing: w, granularity: granularity).dequantized(shape: [3, 40]).scalars
      return (0..<3).map { r in
        (0..<40).reduce(0.0) { $0 + Double(abs(back[r * 40 + $1] - w.scalars[r * 40 + $1])) }
      }
    }
    let perChannel = error(.perChannel)
    let perTensor = error(.perTensor)
    for r in 0..<3 { XCTAssertLessThanOrEqual(perChannel[r], perTensor[r] + 1e-9, "row \(r)") }
    XCTAssertLessThan(perChannel[2] * 100, perTensor[2])
    // Per tensor, the smallest row is rounded away entirely.
    let back = QuantizedWeights(quantizing: w, granularity: .perTensor).values
    XCTAssertTrue(back[80..<120].allSatisfy { $0 == 0 })
  }

  /// Values in [0, 1] and one planted outlier.
  func valuesWithOutlier() -> [Float] {
    var g = SeededGenerator(seed: 4)
    return (0..<20000).map { _ in g.nextUniform() } + [50]
  }

  func mse(_ values: [Float], _ range: (Float, Float)) -> Double {
    let q = QuantizationParameters.unsigned(low: range.0, high: range.1, symmetric: false)
    return values.reduce(0.0) { total, v in
      let level = min(max((v / q.scale).rounded() + Float(q.zeroPoint), 0), 255)
      let back = (level - Float(q.zeroPoint)) * q.scale
      return total + Double((back - v) * (back - v))
    } / Double(values.count)
  }

  func testCalibrationMethods() {
    let values = valuesWithOutlier()
    let (lo, hi) = (values.min()!, values.max()!)
    let minMax = CalibrationMethod.minMax.range(of: values)
    XCTAssertEqual(minMax.0, lo)
    XCTAssertEqual(minMax.1, 50)

    let percentile = CalibrationMethod.percentile.range(of: values, percentile: 99.9)
    XCTAssertLessThan(percentile.1, 1.0001)
    XCTAssertGreaterThan(percentile.1, 0.99)
    XCTAssertGreaterThanOrEqual(percentile.0, lo)

    let mseRange = CalibrationMethod.mse.range(of: values)
    XCTAssertLessThanOrEqual(mse(values, mseRange), mse(values, minMax))
    XCTAssertLessThan(mseRange.1, hi)

    let entropy = CalibrationMethod.entropy.range(of: values)
    XCTAssertLessThan(entropy.1, 50 / 2, "entropy kept the outlier: \(entropy)")
    XCTAssertGreaterThanOrEqual(entropy.1, 0.9, "entropy clipped the bulk: \(entropy)")

    // Without outliers nothing should be clipped much.
    let clean = Array(values.dropLast())
    XCTAssertGreaterThan(CalibrationMethod.entropy.range(of: clean).1, 0.9)
    XCTAssertGreaterThan(CalibrationMethod.mse.range(of: clean).1, 0.9)
  }
}

extension ForwardContext {
  /// An evaluation context usable as an inout argument in one expression.
  nonisolated(unsafe) static var scratchInference = ForwardContext.inference
}
