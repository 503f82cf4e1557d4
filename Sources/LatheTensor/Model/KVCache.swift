/// The keys and values every attention layer has seen, so that generating a token runs the
/// model on that token alone instead of on the whole text again (what llama.cpp and Hugging
/// Face's `past_key_values` keep). A class: the forward pass's layers append to it, and the
/// generator moves `length` on once the pass is done.
public final class KVCache {
  /// Tokens already run through the model: the position the next token takes.
  public private(set) var length = 0
  private var entries: [ObjectIdentifier: (key: Tensor<Float>, value: Tensor<Float>)] = [:]

  public init() {}

  /// `key` and `value` [batch, new, width] appended to what `layer` cached before, along the
  /// sequence; the cache keeps the result for the next pass.
  func appending(key: Variable, value: Variable, for layer: AnyObject) -> (Variable, Variable) {
    let id = ObjectIdentifier(layer)
    let joined: (key: Tensor<Float>, value: Tensor<Float>)
    if let old = entries[id] {
      joined = (.concatenate([old.key, key.value], axis: 1), .concatenate([old.value, value.value], axis: 1))
    } else {
      joined = (key.value, value.value)
    }
    entries[id] = joined
    return (Variable(joined.key), Variable(joined.value))
  }

  /// Records that a pass ran `tokens` more tokens.
  public func advance(by tokens: Int) { length += tokens }

  /// Forgets everything (a new text, or one cut to fit the model's positions).
  public func reset() {
    entries = [:]
    length = 0
  }
}
