import Foundation

/// Which searched settings matter: for each dimension, the share of the objective's variance
/// explained by that dimension alone (a first-order Sobol index estimated by binning, the
/// "correlation ratio" η²), normalised so the shares sum to 1. Like fANOVA's main effects, but
/// from the trials directly instead of a fitted forest: cheap, and honest about what few
/// trials can say (with under 8 trials every share is reported as equal).
public enum ParameterImportance {
  public static func estimate(points: [[Double]], values: [Double], names: [String]) -> [(name: String, share: Double)]
  {
    let n = values.count
    guard n >= 8, !names.isEmpty else { return names.map { ($0, 1 / Double(max(names.count, 1))) } }
    let mean = values.reduce(0, +) / Double(n)
    let total = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
    guard total > 0 else { return names.map { ($0, 1 / Double(names.count)) } }
    let bins = max(2, min(8, Int(Double(n).squareRoot() / 1.5)))
    var effects: [Double] = []
    for d in names.indices {
      // Equal-count bins over the trials' values of this dimension.
      let order = (0..<n).sorted { points[$0][d] < points[$1][d] }
      var explained = 0.0
      for b in 0..<bins {
        let members = order[(b * n / bins)..<((b + 1) * n / bins)]
        guard !members.isEmpty else { continue }
        let binMean = members.reduce(0) { $0 + values[$1] } / Double(members.count)
        explained += Double(members.count) * (binMean - mean) * (binMean - mean)
      }
      // Binning n points into k groups explains about (k−1)/(n−1) of the variance by chance alone.
      let chance = Double(bins - 1) / Double(n - 1)
      effects.append(max(explained / Double(n) / total - chance, 0))
    }
    let sum = effects.reduce(0, +)
    return zip(names, effects).map { ($0, sum > 0 ? $1 / sum : 1 / Double(names.count)) }
      .sorted { $0.1 > $1.1 }
  }
}
