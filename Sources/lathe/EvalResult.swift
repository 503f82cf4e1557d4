import Foundation
import LatheCompress

/// What `lathe eval` prints: `--json` writes it as it is (fields of measures not taken are
/// left out), the text form through `lines()`.
struct EvalResult: Encodable {
  var model: String
  var dataset: String
  /// Top-1 accuracy; nil when the dataset has no labels or the model is no classifier.
  var accuracy: Float?
  var samples: Int
  var correct: Int?
  var seconds: Double
  var reference: String?
  /// One entry per output, with --reference.
  var comparisons: [OutputComparison.Result]?
  var ctc: CTC?
  /// On text: perplexity over every position of the test windows, and how many positions.
  var perplexity: Double?
  var tokens: Int?

  struct CTC: Encodable {
    var blank: Int
    var againstLabels: Sequences?
    var againstReference: Sequences?
  }

  /// A `SequenceScore` with its rates spelled out.
  struct Sequences: Encodable {
    var sequences: Int
    var exactMatches: Int
    var exactMatchRate: Double
    var characterErrorRate: Double
    var edits: Int
    var expectedLabels: Int

    init(_ score: SequenceScore) {
      sequences = score.sequences
      exactMatches = score.exactMatches
      exactMatchRate = score.exactMatchRate
      characterErrorRate = score.characterErrorRate
      edits = score.edits
      expectedLabels = score.expectedLabels
    }

    func line(_ against: String, blank: Int) -> String {
      String(
        format: "CTC (blank %d) against %@: exact match %.2f%% (%d/%d), CER %.2f%% (%d edits / %d labels)", blank,
        against, exactMatchRate * 100, exactMatches, sequences, characterErrorRate * 100, edits, expectedLabels)
    }
  }

  func lines() -> [String] {
    var out: [String] = []
    if let perplexity, let accuracy, let tokens {
      out.append(
        String(
          format: "%@ on %@: perplexity %.3f, next-token accuracy %.2f%% over %d tokens", model, dataset, perplexity,
          accuracy * 100, tokens))
    } else if let accuracy, let correct {
      out.append(
        String(format: "%@ on %@: top-1 accuracy %.2f%% (%d/%d)", model, dataset, accuracy * 100, correct, samples))
    } else {
      out.append("\(model) on \(dataset): \(samples) examples")
    }
    if let comparisons, let reference {
      out.append("against \(reference):")
      out += TextTable(
        header: ["output", "positions", "agreement", "mean KL", "p99 KL", "cosine", "max |error|", "SQNR dB"],
        rows: comparisons.map { c in
          [
            "\(c.output)", "\(c.positions)", String(format: "%.2f%%", c.agreement * 100),
            String(format: "%.4g", c.meanKL), String(format: "%.4g", c.p99KL), String(format: "%.6f", c.cosine),
            String(format: "%.4g", c.maxAbsError), String(format: "%.1f", c.sqnrDB),
          ]
        }, rightAligned: Set(1...7)
      ).lines()
    }
    if let ctc {
      if let labels = ctc.againstLabels { out.append(labels.line("labels", blank: ctc.blank)) }
      if let target = ctc.againstReference, let reference {
        out.append(target.line(reference, blank: ctc.blank))
      }
    }
    return out
  }
}
