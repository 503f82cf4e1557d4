import Foundation

/// A search pipeline small enough for end-to-end tests: two per-layer sparsities and a learning
/// rate for the digits MLP, one epoch per trial, latency timed briefly. The search, workbench and
/// CLI tests all study this one; `settings` adds study settings such as `trials: 3`.
public enum TinySearchPipeline {
  public static func text(name: String, settings: [String] = []) -> String {
    """
    name: \(name)
    model: digits-mlp
    dataset: digits
    steps:
      - name: prune
        technique: prune
        sparsity: {search: per-layer, low: 0.3, high: 0.9}
        epochs: 1
        lr: {search: float, low: 0.005, high: 0.05, log: true}
    search:
      objectives: [maximize accuracy, minimize size_bytes]

    """ + (settings + ["latency_seconds: 0.01"]).map { "  \($0)\n" }.joined()
  }

  /// Writes the pipeline to `url` and returns `url`.
  @discardableResult
  public static func write(to url: URL, name: String, settings: [String] = []) throws -> URL {
    try text(name: name, settings: settings).write(to: url, atomically: true, encoding: .utf8)
    return url
  }
}
