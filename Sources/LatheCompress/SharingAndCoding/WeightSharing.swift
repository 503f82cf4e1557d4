import Foundation
import LatheTensor

/// Deep Compression's second stage: the (remaining) weights of a layer are clustered with
/// 1-D k-means into 2^bits shared values; the layer then stores only a small index per weight
/// and the codebook.
public enum WeightSharing {
  public enum Initialization: String, Sendable, CaseIterable {
    /// Centroids evenly spaced between the smallest and largest weight; Han et al. found it
    /// best because it keeps the rare large weights represented.
    case linear
    /// Centroids at evenly spaced quantiles of the weights (dense regions get more).
    case density
    /// Centroids at weights picked at random.
    case random
  }

  /// Clusters the unmasked elements of `parameter` into `count` centroids and installs the
  /// codebook (weights snap to their centroid).
  public static func share(_ parameter: Parameter, count: Int, initialization: Initialization, seed: UInt64 = 0) {
    let values = parameter.value.scalars
    let mask = parameter.mask?.scalars
    let kept = values.indices.filter { mask?[$0] ?? 1 != 0 }
    let keptValues = kept.map { values[$0] }
    var centroids = initialCentroids(keptValues, count: count, initialization: initialization, seed: seed)
    var assignment = [UInt16](repeating: 0, count: keptValues.count)
    for _ in 0..<50 {
      let changed = assign(keptValues, to: centroids, into: &assignment)
      var sums = [Double](repeating: 0, count: centroids.count)
      var counts = [Int](repeating: 0, count: centroids.count)
      for (v, a) in zip(keptValues, assignment) {
        sums[Int(a)] += Double(v)
        counts[Int(a)] += 1
      }
      for k in centroids.indices where counts[k] > 0 { centroids[k] = Float(sums[k] / Double(counts[k])) }
      if !changed { break }
    }
    var assignments = [UInt16](repeating: WeightCodebook.pruned, count: values.count)
    for (i, index) in kept.enumerated() { assignments[index] = assignment[i] }
    let codebook = WeightCodebook(centroids: centroids, assignments: assignments)
    parameter.codebook = codebook
    parameter.value = codebook.weights(shape: parameter.shape)
  }

  static func initialCentroids(_ values: [Float], count: Int, initialization: Initialization, seed: UInt64) -> [Float] {
    guard let low = values.min(), let high = values.max(), count > 1 else { return [values.first ?? 0] }
    switch initialization {
    case .linear:
      return (0..<count).map { low + (high - low) * Float($0) / Float(count - 1) }
    case .density:
      let sorted = values.sorted()
      return (0..<count).map {
        sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * Double($0) / Double(count - 1)))]
      }
    case .random:
      var g = SeededGenerator(seed: seed)
      return (0..<count).map { _ in values[Int(g.next() % UInt64(values.count))] }.sorted()
    }
  }

  /// Nearest centroid for every value (binary search over sorted midpoints); true if any changed.
  static func assign(_ values: [Float], to centroids: [Float], into assignment: inout [UInt16]) -> Bool {
    let order = centroids.indices.sorted { centroids[$0] < centroids[$1] }
    let sorted = order.map { centroids[$0] }
    let midpoints = (0..<max(sorted.count - 1, 0)).map { (sorted[$0] + sorted[$0 + 1]) / 2 }
    var changed = false
    for (i, v) in values.enumerated() {
      var lo = 0
      var hi = midpoints.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if v > midpoints[mid] { lo = mid + 1 } else { hi = mid }
      }
      let a = UInt16(order[lo])
      if assignment[i] != a {
        assignment[i] = a
        changed = true
      }
    }
    return changed
  }

  /// After an optimizer step moved the shared weights individually, moves each centroid to the
  /// mean of its weights (the average of their updates) and snaps the weights back onto it.
  public static func reproject(_ parameter: Parameter) {
    guard var codebook = parameter.codebook else { return }
    let values = parameter.value.scalars
    let mask = parameter.mask?.scalars
    var sums = [Double](repeating: 0, count: codebook.centroids.count)
    var counts = [Int](repeating: 0, count: codebook.centroids.count)
    // Elements masked after sharing (a later prune) count for no centroid and stay zero.
    for (i, (v, a)) in zip(values, codebook.assignments).enumerated()
    where a != WeightCodebook.pruned && mask?[i] ?? 1 != 0 {
      sums[Int(a)] += Double(v)
      counts[Int(a)] += 1
    }
    for k in codebook.centroids.indices where counts[k] > 0 {
      codebook.centroids[k] = Float(sums[k] / Double(counts[k]))
    }
    parameter.codebook = codebook
    parameter.value = codebook.weights(shape: parameter.shape)
    parameter.applyMask()
  }
}
