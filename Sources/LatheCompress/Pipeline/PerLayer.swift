#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A setting given once for every layer or per layer.
///
/// A per-layer map's keys select layers so that one pipeline serves any model, not only the one
/// it was written for (NNCF's ignored scopes and llm-compressor's `re:` targets do the same):
/// - a layer's exact name;
/// - `last`: the last layer the step can change, in graph order, which is usually the output
///   head (llama.cpp keeps `output.weight` at higher precision for the same reason), unless a
///   layer is really named `last`;
/// - a glob pattern with `*` and `?` (`"*"` for every layer, `"/model/blocks.1*"` for a block).
///
/// A layer takes its exact name's value, else `last`'s, else the most specific pattern's (the
/// one with the most literal characters). Layers no key selects get nil.
public enum PerLayer<T: Sendable>: Sendable {
  case all(T)
  case each([String: T])

  /// The value for `layer`; a map must first be `resolved` for patterns and `last` to apply.
  public func value(for layer: String) -> T? {
    switch self {
    case .all(let v): return v
    case .each(let map): return map[layer]
    }
  }

  /// A map key that selects none of the layers.
  public struct Unmatched: Error {
    public var key: String
  }

  /// The setting with its map's keys replaced by the layers (of `layers`) they select.
  /// Throws `Unmatched` for a key that selects none, so a typo is caught.
  public func resolved(over layers: [String]) throws -> PerLayer<T> {
    guard case .each(let map) = self else { return self }
    let names = Set(layers)
    for key in map.keys.sorted() where !names.contains(key) {
      let selectsLast = key == Self.lastKey && !layers.isEmpty
      if !selectsLast && !layers.contains(where: { Self.matches(pattern: key, $0) }) { throw Unmatched(key: key) }
    }
    // Most specific pattern first; ties broken by the key so the result never depends on
    // dictionary order.
    let patterns = map.keys.filter { $0 != Self.lastKey && Self.isPattern($0) }
      .sorted { (Self.literalCount($0), $1) > (Self.literalCount($1), $0) }
    // A layer really named "last" takes the key for itself.
    let lastLayer = names.contains(Self.lastKey) ? nil : layers.last
    var result: [String: T] = [:]
    for layer in layers {
      if let exact = map[layer] {
        result[layer] = exact
      } else if layer == lastLayer, let last = map[Self.lastKey] {
        result[layer] = last
      } else if let pattern = patterns.first(where: { Self.matches(pattern: $0, layer) }) {
        result[layer] = map[pattern]
      }
    }
    return .each(result)
  }

  static var lastKey: String { "last" }

  static func isPattern(_ key: String) -> Bool { key.contains("*") || key.contains("?") }

  static func literalCount(_ pattern: String) -> Int { pattern.filter { $0 != "*" && $0 != "?" }.count }

  /// Shell-style matching; `*` also crosses `/`, which ONNX node names are full of.
  static func matches(pattern: String, _ name: String) -> Bool {
    isPattern(pattern) && fnmatch(pattern, name, 0) == 0
  }
}
