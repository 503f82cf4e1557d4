import Foundation
import LatheTensor

/// How closely one output of a model follows the same output of a reference model on the same
/// inputs, fed batch by batch (`add`) so only one batch of outputs is held at a time.
///
/// The last axis is the class (or feature) axis and every other axis a position: an `[N, C]`
/// classifier has N positions, an `[N, T, C]` sequence model N·T, an `[N]` output N positions of
/// one value. Per position it measures top-1 agreement (argmax, first maximum on ties) and the KL
/// divergence KL(reference ‖ candidate) of their distributions, reported as mean and 99th
/// percentile as `llama-perplexity --kl-divergence` does. The distributions are softmax of the
/// rows, unless both rows already are probabilities (no negative value and a sum within
/// `probabilityTolerance` of 1): those are used as they are, since a softmax of probabilities
/// would flatten them. Per example it measures the cosine similarity of the flattened outputs;
/// over everything, the largest absolute difference and the signal-to-quantization-noise ratio.
///
/// A NaN in the candidate counts as infinitely wrong (KL and error +inf), so a broken model can
/// never look good. Sums are in doubles and softmax goes through log-sum-exp. Besides running
/// sums it keeps one KL value per position (8 bytes), which the percentile needs.
public struct OutputComparison: Sendable {
  /// The comparison of one output, as `lathe eval --json` writes it.
  public struct Result: Codable, Sendable, Equatable {
    /// Index of the output among the model's outputs.
    public var output: Int
    /// Positions compared (examples times positions per example).
    public var positions: Int
    /// Fraction of positions where both argmaxes are the same, 0...1.
    public var agreement: Double
    /// Mean KL(softmax(reference) ‖ softmax(candidate)) over positions, in nats.
    public var meanKL: Double
    /// 99th percentile (nearest rank) of the same KL values.
    public var p99KL: Double
    /// Mean over examples of the cosine similarity of their flattened outputs (1 when both are
    /// all zeros, 0 when only one is).
    public var cosine: Double
    /// Largest |reference − candidate| of any value.
    public var maxAbsError: Double
    /// 10·log10(Σ reference² / Σ (reference − candidate)²) in dB; +inf when the outputs are equal.
    public var sqnrDB: Double
  }

  /// How far from 1 a row's sum may be for the row to count as probabilities.
  public static let probabilityTolerance = 1e-3
  /// The smallest candidate probability a KL term divides by, so a zero where the reference
  /// has mass costs log(1/1e-30) ≈ 69 nats rather than infinity.
  static let probabilityFloor = 1e-30

  public let output: Int
  private var exampleShape: [Int]?
  private var divergences: [Double] = []
  private var agreeing = 0
  private var examples = 0
  private var cosineSum = 0.0
  private var maxAbsError = 0.0
  private var signal = 0.0
  private var noise = 0.0

  public init(output: Int = 0) { self.output = output }

  /// Adds one batch: the reference's and the candidate's output for the same examples.
  public mutating func add(reference: Tensor<Float>, candidate: Tensor<Float>) throws(EvaluationError) {
    let shape = reference.shape
    let sample = Array(shape.dropFirst())
    guard candidate.shape == shape, exampleShape == nil || exampleShape == sample else {
      throw .shapeMismatch(output: output, reference: shape, candidate: candidate.shape)
    }
    exampleShape = sample
    let columns = shape.count >= 2 ? shape[shape.count - 1] : 1
    let count = shape.first ?? 1
    let perExample = sample.reduce(1, *)
    guard columns > 0, perExample > 0 else {
      examples += count
      return
    }
    reference.withUnsafeBufferPointer { ref in
      candidate.withUnsafeBufferPointer { cand in
        for example in 0..<count {
          var (dot, refNorm, candNorm) = (0.0, 0.0, 0.0)
          for row in stride(from: example * perExample, to: (example + 1) * perExample, by: columns) {
            let r = UnsafeBufferPointer(rebasing: ref[row..<row + columns])
            let c = UnsafeBufferPointer(rebasing: cand[row..<row + columns])
            if Self.argmax(r) == Self.argmax(c) { agreeing += 1 }
            let kl = Self.divergence(r, c)
            divergences.append(kl.isNaN ? .infinity : kl)
            for i in 0..<columns {
              let (x, y) = (Double(r[i]), Double(c[i]))
              dot += x * y
              refNorm += x * x
              candNorm += y * y
              let difference = abs(x - y)
              maxAbsError = max(maxAbsError, difference.isNaN ? .infinity : difference)
              noise += difference.isNaN ? .infinity : difference * difference
            }
          }
          signal += refNorm
          cosineSum += Self.cosine(dot: dot, refNorm, candNorm)
        }
      }
    }
    examples += count
  }

  /// The measurements so far. With nothing compared, every figure says "no difference".
  public var result: Result {
    let positions = divergences.count
    guard positions > 0 else {
      return Result(
        output: output, positions: 0, agreement: 1, meanKL: 0, p99KL: 0, cosine: 1, maxAbsError: 0,
        sqnrDB: .infinity)
    }
    return Result(
      output: output, positions: positions, agreement: Double(agreeing) / Double(positions),
      meanKL: divergences.reduce(0, +) / Double(positions), p99KL: Self.percentile(divergences, 0.99),
      cosine: cosineSum / Double(max(examples, 1)), maxAbsError: maxAbsError,
      sqnrDB: noise == 0 ? .infinity : 10 * log10(signal / noise))
  }

  /// The nearest-rank percentile: the smallest value with at least `fraction` of all at or below it.
  public static func percentile(_ values: [Double], _ fraction: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    let rank = Int((fraction * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank, 1), sorted.count) - 1]
  }

  /// Index of the first largest value (NaN never wins).
  static func argmax(_ row: UnsafeBufferPointer<Float>) -> Int {
    var best = 0
    for i in row.indices where row[i] > row[best] || row[best].isNaN { best = i }
    return best
  }

  /// KL(p ‖ q) of the two rows' distributions, in nats, never below 0.
  static func divergence(_ reference: UnsafeBufferPointer<Float>, _ candidate: UnsafeBufferPointer<Float>) -> Double {
    var kl = 0.0
    if isProbabilities(reference) && isProbabilities(candidate) {
      for i in reference.indices where reference[i] > 0 {
        let p = Double(reference[i])
        kl += p * (log(p) - log(max(Double(candidate[i]), probabilityFloor)))
      }
    } else {
      // log softmax(x)_i = x_i − logsumexp(x); p_i = exp(log p_i).
      let (refNormalizer, candNormalizer) = (logSumExp(reference), logSumExp(candidate))
      for i in reference.indices {
        let logP = Double(reference[i]) - refNormalizer
        if logP == -.infinity { continue }  // p = 0 adds nothing (0 · −inf would be NaN)
        let logQ = Double(candidate[i]) - candNormalizer
        kl += exp(logP) * (logP - logQ)
      }
    }
    return kl.isNaN ? kl : max(kl, 0)
  }

  static func isProbabilities(_ row: UnsafeBufferPointer<Float>) -> Bool {
    var sum = 0.0
    for value in row {
      guard value >= 0 else { return false }
      sum += Double(value)
    }
    return abs(sum - 1) <= probabilityTolerance
  }

  static func logSumExp(_ row: UnsafeBufferPointer<Float>) -> Double {
    let top = Double(row.max() ?? 0)
    guard top.isFinite else { return top }
    return top + log(row.reduce(0.0) { $0 + exp(Double($1) - top) })
  }

  static func cosine(dot: Double, _ a: Double, _ b: Double) -> Double {
    if a == 0 && b == 0 { return 1 }
    if a == 0 || b == 0 { return 0 }
    return dot / (a.squareRoot() * b.squareRoot())
  }
}
