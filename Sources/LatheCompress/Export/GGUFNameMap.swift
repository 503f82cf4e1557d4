/// How a Lathe parameter name ("fc1.weight") becomes a GGUF tensor name. llama.cpp finds
/// tensors by name ("token_embd.weight", "blk.0.attn_qkv.weight"), so an architecture it runs
/// needs its own table; anything else keeps Lathe's names.
public struct GGUFNameMap: Sendable {
  private let rename: @Sendable (String) -> String

  public init(_ rename: @escaping @Sendable (String) -> String) { self.rename = rename }

  /// Lathe's own names, unchanged.
  public static let lathe = GGUFNameMap { $0 }

  /// Names found in `table` are replaced; the others are kept.
  public static func table(_ table: [String: String]) -> GGUFNameMap { GGUFNameMap { table[$0] ?? $0 } }

  public func callAsFunction(_ name: String) -> String { rename(name) }
}
