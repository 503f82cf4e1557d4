import Foundation
import LatheTensor

/// AWQ (Lin, Tang, Tang, Yang, Dang, Gan, Han, "AWQ: Activation-aware Weight Quantization for
/// LLM Compression and Acceleration", MLSys 2024): the weights that meet large activations
/// matter most, so before rounding, input channel j of the weight is multiplied by
/// s_j = mean|x_j|^α (normalised so that max(s)·min(s) = 1) and the input divided by it:
/// x·Wᵀ = (x/s)·(W·s)ᵀ exactly, but the salient columns of W·s get relatively finer levels.
/// α is searched on a grid (`gridPoints` values from 0, plain round-to-nearest, to 1) for the
/// smallest output error of the layer on calibration rows; an optional search then shrinks each
/// group's clipping bound (to 1, 0.95, ..., 0.55 of its max|w|) for the smallest error of that
/// group's share of the output.
///
/// Two departures from the reference code, both for Lathe's kernel and small calibration sets:
/// the α search measures the error of the layer as it computes (its integer kernel quantizes
/// each input row x/s to int8 with one scale, so a channel divided by a small s can swamp a
/// row's activation scale; the paper's fp16 activations have no such cost), and a channel that
/// was zero in every calibration row takes the smallest magnitude seen instead of 0 (with 0 its
/// s would be the floor, 1e-4, and any input it gets later would be multiplied ten-thousandfold).
///
/// In the papers' transformers s folds into the op before the layer (a LayerNorm's gain, the
/// previous Linear's rows), costing nothing. A general graph has no such op before every
/// Linear, so here s stays in the layer (`WeightOnlyLinear.inputScale`: `in` fp32 values in the
/// file and one multiply per input element at run time).
public enum AWQ {
  public struct Result: Sendable {
    public var weights: GroupQuantizedWeights
    /// s, one positive value per input channel.
    public var inputScale: [Float]
    /// The α the search chose.
    public var alpha: Double
  }

  /// Calibration rows kept for the α search (examples, or positions of sequences).
  static let keptRows = 2048

  /// The AWQ form of `weight` [out, in] for inputs described by `statistics` (which must keep
  /// some rows: the α search measures the output error on them).
  public static func quantize(
    _ weight: Tensor<Float>, statistics: LayerInputStatistics, bits: Int, groupSize: Int, gridPoints: Int = 20,
    clip: Bool = true
  ) -> Result {
    let rows = weight.shape[0]
    let columns = weight.count / rows
    let w = weight.contiguous().scalars
    let magnitude = statistics.meanAbsolute
    let x = Tensor(shape: [statistics.keptRowCount, columns], scalars: statistics.keptRows)
    let reference = x.matmul(weight.contiguous(), transposeOther: true)
    var best: (alpha: Double, scale: [Float], error: Double)?
    for point in 0..<gridPoints {
      let alpha = gridPoints > 1 ? Double(point) / Double(gridPoints - 1) : 0
      let scale = channelScale(magnitude, alpha: alpha)
      let q = GroupQuantizedWeights(quantizing: scaled(w, scale, rows: rows), bits: bits, groupSize: groupSize)
      let layer = WeightOnlyLinear(weights: q, bias: nil, inputScale: Tensor(shape: [columns], scalars: scale))
      let error = outputError(layer.outputs(x), reference)
      if best == nil || error < best!.error { best = (alpha, scale, error) }
    }
    let chosen = best!
    let scaledWeight = scaled(w, chosen.scale, rows: rows)
    let clipRatios =
      clip
      ? clipSearch(scaledWeight, statistics: statistics, scale: chosen.scale, bits: bits, groupSize: groupSize) : nil
    let weights = GroupQuantizedWeights(quantizing: scaledWeight, bits: bits, groupSize: groupSize, clip: clipRatios)
    return Result(weights: weights, inputScale: chosen.scale, alpha: chosen.alpha)
  }

  /// s_j = max(m_j^α, 1e-4), divided by √(max s · min s) so the scales centre on 1; a channel
  /// with m_j = 0 counts as the smallest m seen.
  static func channelScale(_ magnitude: [Double], alpha: Double) -> [Float] {
    let floor = magnitude.filter { $0 > 0 }.min() ?? 1
    let s = magnitude.map { max(pow($0 > 0 ? $0 : floor, alpha), 1e-4) }
    let centre = (s.max()! * s.min()!).squareRoot()
    return s.map { Float($0 / centre) }
  }

  /// W·diag(s) as a tensor [rows, columns].
  static func scaled(_ w: [Float], _ scale: [Float], rows: Int) -> Tensor<Float> {
    let columns = scale.count
    return Tensor(shape: [rows, columns]) { out in
      for i in 0..<w.count { out[i] = w[i] * scale[i % columns] }
    }
  }

  /// ‖y − reference‖² over the kept rows.
  static func outputError(_ y: Tensor<Float>, _ reference: Tensor<Float>) -> Double {
    var total = 0.0
    y.withUnsafeBufferPointer { a in
      reference.withUnsafeBufferPointer { b in
        for i in 0..<a.count { total += Double(a[i] - b[i]) * Double(a[i] - b[i]) }
      }
    }
    return total
  }

  /// Per (row, group), the fraction of max|w| to clip at, from 1 down to 0.55 in steps of
  /// 0.05: the one whose rounding error e gives the smallest eᵀ·G·e, G the group's block of
  /// the scaled inputs' Gram matrix (Σ over rows of (x/s)_g·e)²: that group's share of the
  /// output error).
  static func clipSearch(
    _ weight: Tensor<Float>, statistics: LayerInputStatistics, scale: [Float], bits: Int, groupSize: Int
  ) -> [Float] {
    let rows = weight.shape[0]
    let columns = scale.count
    let groups = (columns + groupSize - 1) / groupSize
    let w = weight.scalars
    let top = Float(GroupQuantizedWeights.maxLevel(bits: bits))
    let gram = statistics.gram
    var ratios = [Float](repeating: 1, count: rows * groups)
    let candidates = (0..<10).map { 1 - Float($0) / 20 }
    var e = [Double](repeating: 0, count: groupSize)
    for g in 0..<groups {
      let first = g * groupSize
      let width = min(groupSize, columns - first)
      // The group's block of the Gram matrix of x/s.
      var block = [Double](repeating: 0, count: width * width)
      for a in 0..<width {
        for b in 0..<width {
          block[a * width + b] =
            gram[(first + a) * columns + first + b] / (Double(scale[first + a]) * Double(scale[first + b]))
        }
      }
      for r in 0..<rows {
        let values = w[(r * columns + first)..<(r * columns + first + width)]
        let bound = values.reduce(Float(0)) { max($0, abs($1)) }
        var best = (ratio: Float(1), error: Double.infinity)
        for ratio in candidates {
          let s = GroupQuantizedWeights.scale(bound: bound * ratio, bits: bits)
          for (k, v) in values.enumerated() {
            e[k] = Double(v - Float(GroupQuantizedWeights.level(v, scale: s, top: top)) * s)
          }
          var error = 0.0
          for a in 0..<width where e[a] != 0 {
            var row = 0.0
            for b in 0..<width { row += block[a * width + b] * e[b] }
            error += e[a] * row
          }
          if error < best.error { best = (ratio, error) }
        }
        ratios[r * groups + g] = best.ratio
      }
    }
    return ratios
  }
}
