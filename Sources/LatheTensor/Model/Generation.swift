import Foundation

/// How `Model.generate` picks each next token.
public struct SamplingSettings: Sendable, Equatable {
  /// 0 picks the most likely token (greedy); above 0 samples from softmax(logits / temperature).
  public var temperature: Float
  /// Sample only among the `topK` most likely tokens (0: all).
  public var topK: Int
  public var seed: UInt64
  /// Run each new token alone against the cached keys and values (true), or the whole text
  /// again every time (false: the reference the cache is tested against).
  public var useCache: Bool

  public init(temperature: Float = 0, topK: Int = 0, seed: UInt64 = 0, useCache: Bool = true) {
    (self.temperature, self.topK, self.seed, self.useCache) = (temperature, topK, seed, useCache)
  }
}

extension Model {
  /// Continues `prompt` (token ids) by up to `count` tokens with a language model. A text that
  /// outgrows the model's positions keeps its last half and goes on from there (the cache is
  /// rebuilt from those tokens), so any length can be generated.
  public func generate(prompt: [Int], count: Int, settings: SamplingSettings = SamplingSettings()) -> [Int] {
    precondition(isLanguageModel, "generate needs a language model")
    let positions = inputShape[0]
    var tokens = prompt.isEmpty ? [0] : prompt
    var generated: [Int] = []
    var generator = SeededGenerator(seed: settings.seed)
    let cache = KVCache()
    // Tokens of `tokens` the cache already holds.
    var cached = 0
    return GradientRecording.disabled {
      while generated.count < count {
        if tokens.count > positions || !settings.useCache {
          if tokens.count > positions { tokens = Array(tokens.suffix(positions / 2)) }
          cache.reset()
          cached = 0
        }
        let fresh = Array(tokens[cached...])
        var context = ForwardContext(isTraining: false, cache: settings.useCache ? cache : nil)
        let ids = Tensor<Float>(shape: [1, fresh.count], scalars: fresh.map(Float.init))
        let logits = forward(Variable(ids), context: &context).value
        if settings.useCache {
          cache.advance(by: fresh.count)
          cached = tokens.count
        }
        let vocabulary = logits.shape[2]
        let last = Array(logits.scalars.suffix(vocabulary))
        let next = Self.pick(last, settings, &generator)
        generated.append(next)
        tokens.append(next)
      }
      return generated
    }
  }

  /// The next token from one position's logits.
  static func pick(_ logits: [Float], _ s: SamplingSettings, _ g: inout SeededGenerator) -> Int {
    let best = logits.indices.max { logits[$0] < logits[$1] } ?? 0
    guard s.temperature > 0 else { return best }
    var candidates = Array(logits.indices)
    if s.topK > 0, s.topK < candidates.count {
      candidates = Array(candidates.sorted { logits[$0] > logits[$1] }.prefix(s.topK))
    }
    let weights = candidates.map { Foundation.exp(Double((logits[$0] - logits[best]) / s.temperature)) }
    var draw = Double(g.nextUniform()) * weights.reduce(0, +)
    for (c, w) in zip(candidates, weights) {
      draw -= w
      if draw <= 0 { return c }
    }
    return candidates.last ?? best
  }
}
