import LatheTensor

extension Dataset {
  /// Only the examples of `classes`, relabelled 0..<classes.count in that order.
  public func restricted(to classes: [Int]) -> Dataset {
    let position = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    let picked = labels.indices.filter { position[labels[$0]] != nil }
    var result = subset(picked)
    result.labels = result.labels.map { position[$0]! }
    result.classCount = classes.count
    return result
  }

  /// At most `perClass` examples of every class, chosen with a seeded shuffle.
  public func fewShot(perClass: Int, seed: UInt64) -> Dataset {
    var order = Array(0..<count)
    var g = SeededGenerator(seed: seed)
    g.shuffle(&order)
    var taken = [Int: Int]()
    let picked = order.filter { index in
      let label = labels[index]
      guard taken[label, default: 0] < perClass else { return false }
      taken[label, default: 0] += 1
      return true
    }
    return subset(picked.sorted())
  }
}
