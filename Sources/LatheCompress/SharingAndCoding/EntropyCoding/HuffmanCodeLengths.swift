/// Optimal code lengths from symbol frequencies, limited to a maximum length.
///
/// Two steps:
/// 1. Plain Huffman lengths, built with the two-queue method (leaves sorted by frequency, internal
///    nodes queued in the order they are made). Ties go to the leaf, then to the lower symbol
///    index, so equal inputs always give equal lengths.
/// 2. If the longest code exceeds `maxLength`, the length-limiting heuristic of JPEG (ITU T.81,
///    Annex K.3, "Adjust_BITS", also what libjpeg does): repeatedly take two sibling codes at the
///    deepest level, lift one of them to their parent's level and pair the other with a code moved
///    down from the deepest level that has room. Each move keeps the Kraft sum at exactly 1, and
///    the result is close to optimal (package-merge would be optimal, at more code). Only the
///    number of codes per length changes; lengths are then handed out anew, shortest to the most
///    frequent symbols (ties: lower index first).
///
/// Degenerate inputs: no used symbol gives all zero lengths; a single used symbol gets length 1,
/// since a 0-bit code could not say how many symbols there are.
public enum HuffmanCodeLengths {
  /// Code lengths, one per symbol (0 for symbols of frequency 0).
  ///
  /// - Precondition: frequencies are non-negative, `maxLength` is in `1...32`, and `2^maxLength` is
  ///   at least the number of used symbols.
  public static func lengths(frequencies: [Int], maxLength: Int) -> [UInt8] {
    precondition((1...32).contains(maxLength), "Huffman: maximum code length \(maxLength) is outside 1...32")
    precondition(frequencies.allSatisfy { $0 >= 0 }, "Huffman: frequencies must be non-negative")
    // Used symbols, least frequent first; ties by symbol index.
    let leaves = frequencies.indices.filter { frequencies[$0] > 0 }
      .sorted { (frequencies[$0], $0) < (frequencies[$1], $1) }
    var lengths = [UInt8](repeating: 0, count: frequencies.count)
    if leaves.isEmpty { return lengths }
    if leaves.count == 1 {
      lengths[leaves[0]] = 1
      return lengths
    }
    precondition(
      maxLength >= 32 || leaves.count <= 1 << maxLength,
      "Huffman: \(leaves.count) symbols do not fit in codes of at most \(maxLength) bits")

    var countPerLength = huffmanLengthCounts(leafWeights: leaves.map { frequencies[$0] })
    limit(&countPerLength, to: maxLength)

    // Most frequent symbols take the shortest codes; among equals, the lower index.
    var length = 1
    for symbol in leaves.sorted(by: { (frequencies[$1], $0) < (frequencies[$0], $1) }) {
      while countPerLength[length] == 0 { length += 1 }
      lengths[symbol] = UInt8(length)
      countPerLength[length] -= 1
    }
    return lengths
  }

  /// `result[l]` = the number of leaves at depth `l` of a Huffman tree over `leafWeights`, which
  /// must be sorted ascending and hold at least two weights.
  private static func huffmanLengthCounts(leafWeights: [Int]) -> [Int] {
    let leafCount = leafWeights.count
    // Nodes 0..<leafCount are leaves; internal node k is node leafCount + k. Parents always have
    // higher node numbers than their children.
    var parent = [Int](repeating: 0, count: 2 * leafCount - 1)
    var internalWeights: [Int] = []
    internalWeights.reserveCapacity(leafCount - 1)
    var nextLeaf = 0
    var nextInternal = 0

    /// The lighter of the two queue fronts; a tie goes to the leaf.
    func takeLightest() -> (node: Int, weight: Int) {
      let internalReady = nextInternal < internalWeights.count
      if nextLeaf < leafCount && (!internalReady || leafWeights[nextLeaf] <= internalWeights[nextInternal]) {
        defer { nextLeaf += 1 }
        return (nextLeaf, leafWeights[nextLeaf])
      }
      defer { nextInternal += 1 }
      return (leafCount + nextInternal, internalWeights[nextInternal])
    }

    for _ in 0..<(leafCount - 1) {
      let first = takeLightest()
      let second = takeLightest()
      let node = leafCount + internalWeights.count
      parent[first.node] = node
      parent[second.node] = node
      internalWeights.append(first.weight + second.weight)
    }

    // Depths from the root (the last node) down; parents come later in the array, so walking
    // backwards visits each parent before its children.
    var depth = [Int](repeating: 0, count: parent.count)
    var counts = [Int](repeating: 0, count: leafCount + 1)
    for node in stride(from: parent.count - 2, through: 0, by: -1) {
      depth[node] = depth[parent[node]] + 1
      if node < leafCount { counts[depth[node]] += 1 }
    }
    return counts
  }

  /// JPEG Annex K.3's Adjust_BITS on a complete code's per-length counts (see the type comment).
  private static func limit(_ counts: inout [Int], to maxLength: Int) {
    var deepest = counts.count - 1
    while deepest > maxLength {
      if counts[deepest] == 0 {
        deepest -= 1
        continue
      }
      // A complete code has an even number of codes at its deepest level, so there are two
      // siblings to take. Some shallower level has a code, or the symbols would not fit.
      var donor = deepest - 2
      while counts[donor] == 0 { donor -= 1 }
      counts[deepest] -= 2  // two siblings leave the deepest level:
      counts[deepest - 1] += 1  // one takes their parent's place,
      counts[donor + 1] += 2  // the other pairs with the donor code, one level down,
      counts[donor] -= 1  // which leaves the donor's level.
    }
  }
}
