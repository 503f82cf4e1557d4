import LatheCompress
import LatheIO
import LatheTensor

extension EngineSession {
  /// Greedy continuations by the model as opened and each done step's model. The models are
  /// copied under the lock, so a step running in the background never shares one with the
  /// generator (a Linear packs its weight on first use).
  public func continuations(of prompt: String, count: Int) throws -> [Continuation] {
    let models: [(String, Model, Double?)] = try lock.withLock {
      let snapshots = finishedSnapshots
      guard let first = snapshots.first else { throw SessionError("open a model first") }
      guard first.deployed.isLanguageModel else {
        throw SessionError("the Prompt screen needs a language model (a GPT); this model is not one")
      }
      guard (first.deployed.transformerConfig?.vocabulary ?? 0) == TextCorpus.vocabulary else {
        throw SessionError("the Prompt screen reads prompts as bytes; this model's tokens are not bytes")
      }
      let names = ["original"] + current.steps.prefix(snapshots.count - 1).map(\.name)
      return zip(names, snapshots).map { ($0, $1.deployed.copy(), $1.metrics.extra["perplexity"]) }
    }
    let ids = Array(prompt.utf8).map(Int.init)
    return models.map { name, model, perplexity in
      let bytes = model.generate(prompt: ids, count: count).map { UInt8(clamping: $0) }
      return Continuation(name: name, text: String(decoding: bytes, as: UTF8.self), perplexity: perplexity)
    }
  }
}
