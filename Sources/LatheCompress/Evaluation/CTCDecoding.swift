import LatheTensor

/// Greedy (best-path) decoding of CTC scores and the edit distance its results are scored with.
public enum CTCDecoding {
  /// The label sequence of each example of `[N, T, C]` scores (logits or probabilities): the
  /// argmax class at each time step, repeats collapsed, then blanks dropped, so "a a _ a"
  /// reads "a a" and "a a a" reads "a".
  public static func greedy(_ scores: Tensor<Float>, blank: Int = 0) throws(EvaluationError) -> [[Int]] {
    let shape = scores.shape
    guard shape.count == 3 else { throw .notSequenceScores(shape: shape) }
    let (count, steps, classes) = (shape[0], shape[1], shape[2])
    guard blank >= 0, blank < classes else { throw .blankOutOfRange(blank: blank, classes: classes) }
    return scores.withUnsafeBufferPointer { p in
      (0..<count).map { example in
        var labels: [Int] = []
        var previous: Int?
        for step in 0..<steps {
          let start = (example * steps + step) * classes
          let best = OutputComparison.argmax(UnsafeBufferPointer(rebasing: p[start..<start + classes]))
          if best != previous && best != blank { labels.append(best) }
          previous = best
        }
        return labels
      }
    }
  }

  /// Levenshtein distance: the fewest insertions, deletions and substitutions turning `a` into `b`.
  public static func editDistance(_ a: [Int], _ b: [Int]) -> Int {
    guard !a.isEmpty else { return b.count }
    // One row of the dynamic-programming table at a time: row[j] = distance(a[..<i], b[..<j]).
    var row = Array(0...b.count)
    for i in 1...a.count {
      var diagonal = row[0]
      row[0] = i
      for j in stride(from: 1, through: b.count, by: 1) {
        let substitution = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)
        diagonal = row[j]
        row[j] = min(substitution, row[j] + 1, row[j - 1] + 1)
      }
    }
    return row[b.count]
  }
}

/// Decoded label sequences scored against expected ones: exact-match rate and character error
/// rate (total edit distance over total expected length, as speech and OCR toolkits report it).
public struct SequenceScore: Codable, Sendable, Equatable {
  public var sequences = 0
  public var exactMatches = 0
  /// Sum of edit distances from each decoded sequence to its expected one.
  public var edits = 0
  /// Sum of the expected sequences' lengths.
  public var expectedLabels = 0

  public init() {}

  /// Scores one batch; `expected[i]` is what `decoded[i]` should read.
  public mutating func add(decoded: [[Int]], expected: [[Int]]) throws(EvaluationError) {
    guard decoded.count == expected.count else {
      throw .labelCountMismatch(labels: expected.count, outputs: decoded.count)
    }
    for (got, want) in zip(decoded, expected) {
      sequences += 1
      if got == want { exactMatches += 1 }
      edits += CTCDecoding.editDistance(got, want)
      expectedLabels += want.count
    }
  }

  /// Fraction of sequences decoded exactly, 0...1 (1 when there are none).
  public var exactMatchRate: Double { sequences == 0 ? 1 : Double(exactMatches) / Double(sequences) }
  /// Edits per expected label; when every expected sequence is empty, 0 if nothing was decoded
  /// and +inf otherwise (any label is then an error with nothing to divide it by).
  public var characterErrorRate: Double {
    expectedLabels > 0 ? Double(edits) / Double(expectedLabels) : (edits == 0 ? 0 : .infinity)
  }
}
