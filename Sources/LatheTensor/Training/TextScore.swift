import Foundation

/// How well a language model predicts held-out text: perplexity, exp of the mean negative
/// log-likelihood of every next token (what `llama-perplexity` and the GPTQ paper report), and
/// the share of positions whose most likely token is the right one.
public struct TextScore: Sendable, Equatable {
  public var perplexity: Double
  /// Mean negative log-likelihood per token, in nats (log of `perplexity`).
  public var meanNLL: Double
  public var tokenAccuracy: Double
  public var tokens: Int

  /// Scores `model` on every position of `data`'s windows (`Dataset.nextTokens`).
  public static func measure(_ model: Model, on data: Dataset, batchSize: Int = 32) -> TextScore {
    guard let next = data.nextTokens, data.count > 0 else {
      return TextScore(perplexity: .nan, meanNLL: .nan, tokenAccuracy: 0, tokens: 0)
    }
    let targets = next.scalars.map { Int($0) }
    let width = next.shape[1]
    var nll = 0.0
    var correct = 0
    var start = 0
    while start < data.count {
      let end = min(start + batchSize, data.count)
      let logits = model.predict(feeds: model.feeds(data, start..<end))[0].contiguous()
      let vocabulary = logits.shape[logits.rank - 1]
      logits.withUnsafeBufferPointer { p in
        for row in 0..<(end - start) * width {
          let scores = p.baseAddress! + row * vocabulary
          let target = targets[start * width + row]
          var largest = scores[0]
          var best = 0
          for j in 1..<vocabulary where scores[j] > largest { (largest, best) = (scores[j], j) }
          var total = 0.0
          for j in 0..<vocabulary { total += Foundation.exp(Double(scores[j] - largest)) }
          nll += Foundation.log(total) - Double(scores[target] - largest)
          if best == target { correct += 1 }
        }
      }
      start = end
    }
    let count = targets.count
    let mean = nll / Double(count)
    return TextScore(
      perplexity: Foundation.exp(mean), meanNLL: mean, tokenAccuracy: Double(correct) / Double(count), tokens: count)
  }
}
