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

extension StepParameters {
  /// Class indices given as a list of integers.
  func classes(_ key: String, below limit: Int) throws -> [Int] {
    guard case .list(let items) = value(key) else { throw error(key, "expected a list of class indices") }
    var result: [Int] = []
    for item in items {
      guard case .int(let c) = item, (0..<limit).contains(c) else {
        throw error(key, "expected class indices in 0..<\(limit), got \(item)")
      }
      guard !result.contains(c) else { throw error(key, "class \(c) is listed twice") }
      result.append(c)
    }
    guard !result.isEmpty else { throw error(key, "needs at least one class") }
    return result
  }
}
