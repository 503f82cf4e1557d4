import Foundation
import LatheTensor

/// Chooses the range [low, high] an activation is quantized over, from values observed on a
/// calibration set. Clipping rare outliers trades a little saturation error for finer steps
/// everywhere else.
public enum CalibrationMethod: String, Sendable, CaseIterable {
  /// The observed minimum and maximum: nothing clips, steps are coarse if outliers exist.
  case minMax = "minmax"
  /// Clip to a percentile of the values (e.g. 99.99%).
  case percentile
  /// The clipping range that minimises the mean squared quantization error.
  case mse
  /// The range whose quantized histogram stays closest (KL divergence) to the real one, as
  /// TensorRT calibrates (Migacz 2017).
  case entropy

  /// The range for `values` (not necessarily sorted), for u8 quantization.
  public func range(of values: [Float], percentile: Double = 99.99, symmetric: Bool = false) -> (Float, Float) {
    guard let low = values.min(), let high = values.max() else { return (0, 0) }
    switch self {
    case .minMax:
      return (low, high)
    case .percentile:
      let sorted = values.sorted()
      let q = percentile / 100
      let hi = sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * q))]
      let lo = sorted[max(0, Int(Double(sorted.count - 1) * (1 - q)))]
      return (lo, hi)
    case .mse:
      return searchClip(values, low: low, high: high) { candidate in
        Self.quantizationMSE(values, low: candidate.0, high: candidate.1, symmetric: symmetric)
      }
    case .entropy:
      return Self.entropyRange(values, low: low, high: high)
    }
  }

  /// Tries clip ranges shrinking from the full one and keeps the best by `cost`.
  private func searchClip(_ values: [Float], low: Float, high: Float, cost: ((Float, Float)) -> Double) -> (
    Float, Float
  ) {
    var best = (low, high)
    var bestCost = cost(best)
    for step in 1..<64 {
      let f = 1 - Float(step) / 80  // down to 21% of the range
      let candidate = (low * f, high * f)
      let c = cost(candidate)
      if c < bestCost {
        bestCost = c
        best = candidate
      }
    }
    return best
  }

  static func quantizationMSE(_ values: [Float], low: Float, high: Float, symmetric: Bool) -> Double {
    let q = QuantizationParameters.unsigned(low: low, high: high, symmetric: symmetric)
    let inv = 1 / q.scale
    var total: Double = 0
    // A strided sample keeps the search fast on large calibration sets.
    let stride = max(1, values.count / 20000)
    var n = 0
    for i in Swift.stride(from: 0, to: values.count, by: stride) {
      let v = values[i]
      let level = (v * inv).rounded() + Float(q.zeroPoint)
      let clamped = min(max(level, 0), 255)
      let back = (clamped - Float(q.zeroPoint)) * q.scale
      total += Double((back - v) * (back - v))
      n += 1
    }
    return total / Double(max(n, 1))
  }

  /// KL-divergence calibration on the magnitude histogram (2048 bins; 128 quantized levels
  /// for signed data, 255 for non-negative data).
  static func entropyRange(_ values: [Float], low: Float, high: Float) -> (Float, Float) {
    let bound = max(abs(low), abs(high))
    guard bound > 0 else { return (low, high) }
    let bins = 2048
    var histogram = [Double](repeating: 0, count: bins)
    for v in values {
      histogram[min(bins - 1, Int(abs(v) / bound * Float(bins)))] += 1
    }
    let levels = low >= 0 ? 255 : 128
    var bestKL = Double.infinity
    var bestEdge = bins
    for edge in stride(from: levels, through: bins, by: 16) {
      // Reference: the histogram clipped at `edge`, outliers folded into the last bin.
      var reference = Array(histogram[0..<edge])
      reference[edge - 1] += histogram[edge...].reduce(0, +)
      // Candidate: the same bins merged into `levels` groups and spread back evenly over the
      // non-empty bins of each group.
      var candidate = [Double](repeating: 0, count: edge)
      let per = Double(edge) / Double(levels)
      for group in 0..<levels {
        let start = Int(Double(group) * per)
        let end = group == levels - 1 ? edge : Int(Double(group + 1) * per)
        guard end > start else { continue }
        let sum = histogram[start..<end].reduce(0, +)
        let nonEmpty = histogram[start..<end].filter { $0 > 0 }.count
        guard nonEmpty > 0 else { continue }
        for i in start..<end where histogram[i] > 0 { candidate[i] = sum / Double(nonEmpty) }
      }
      let kl = klDivergence(reference, candidate)
      if kl < bestKL {
        bestKL = kl
        bestEdge = edge
      }
    }
    let clip = bound * Float(bestEdge) / Float(bins)
    return (max(low, -clip), min(high, clip))
  }

  static func klDivergence(_ p: [Double], _ q: [Double]) -> Double {
    let ps = p.reduce(0, +)
    let qs = q.reduce(0, +)
    guard ps > 0, qs > 0 else { return .infinity }
    var kl: Double = 0
    for (a, b) in zip(p, q) where a > 0 {
      let pa = a / ps
      let qb = max(b / qs, 1e-12)
      kl += pa * log(pa / qb)
    }
    return kl
  }
}
