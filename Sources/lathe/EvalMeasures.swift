import Foundation
import LatheCompress
import LatheTensor

/// What `lathe eval` adds up over the batches of one pass through the test split.
struct EvalMeasures {
  /// Class labels, one per example; empty when the dataset has none.
  let labels: [Int]
  /// Expected CTC label sequences, one per example.
  let expected: [[Int]]?
  /// The CTC blank class; nil when not decoding.
  let blank: Int?
  let hasReference: Bool
  private var correct: Int?
  private var comparisons: [OutputComparison] = []
  private var againstLabels: SequenceScore?
  private var againstReference: SequenceScore?

  init(labels: [Int], expected: [[Int]]?, blank: Int?, hasReference: Bool) {
    self.labels = labels
    self.expected = expected
    self.blank = blank
    self.hasReference = hasReference
  }

  /// One batch: examples `range`, the model's outputs and the reference's.
  mutating func add(_ range: Range<Int>, _ outputs: [Tensor<Float>], reference: [Tensor<Float>]?) throws {
    guard let scores = outputs.first else { return }
    // Top-1 accuracy only means something for a classifier's [N, classes] scores: never argmax
    // a detector's boxes or an encoder's embedding.
    if !labels.isEmpty && blank == nil && scores.rank == 2 {
      correct = (correct ?? 0) + zip(scores.argmaxRows(), labels[range]).filter { $0 == $1 }.count
    }
    if let reference { try comparisons.add(reference: reference, candidate: outputs) }
    if let blank {
      let decoded = try CTCDecoding.greedy(scores, blank: blank)
      if let expected {
        try againstLabels.add(decoded: decoded, expected: Array(expected[range]))
      }
      if let target = reference?.first {
        try againstReference.add(decoded: decoded, expected: CTCDecoding.greedy(target, blank: blank))
      }
    }
  }

  func result(model: String, dataset: String, reference: String?, samples: Int, seconds: Double) -> EvalResult {
    EvalResult(
      model: model, dataset: dataset,
      accuracy: correct.map { samples == 0 ? 0 : Float($0) / Float(samples) }, samples: samples, correct: correct,
      seconds: seconds, reference: reference, comparisons: hasReference ? comparisons.map(\.result) : nil,
      ctc: blank.map {
        EvalResult.CTC(
          blank: $0, againstLabels: againstLabels.map(EvalResult.Sequences.init),
          againstReference: againstReference.map(EvalResult.Sequences.init))
      })
  }
}

extension SequenceScore? {
  /// Scores a batch, starting the score on the first one.
  fileprivate mutating func add(decoded: [[Int]], expected: [[Int]]) throws {
    var score = self ?? SequenceScore()
    try score.add(decoded: decoded, expected: expected)
    self = score
  }
}
