import Foundation

/// What a safetensors file holds, read from its header alone: every tensor's name, dtype,
/// shape and byte range, and the metadata. Any valid safetensors file lists, whatever its dtypes
/// (a Hugging Face checkpoint in BF16, say), and the data section is never read, so listing a
/// file of many gigabytes costs its header. Offsets, sizes and shapes get the same checks as
/// when the tensors are loaded (overflow included), so a damaged file is an error here too.
public struct SafetensorsListing: Sendable {
  public struct Tensor: Sendable {
    public var name: String
    /// As the file names it: one of `SafetensorsDType.bits`.
    public var dtype: String
    public var shape: [Int]
    public var elements: Int
    /// Where its bytes lie in the data section: `begin..<end`.
    public var begin: Int
    public var end: Int
    public var bytes: Int { end - begin }
  }

  /// The tensors by data offset, the order they were written in.
  public var tensors: [Tensor]
  public var metadata: [String: String]
  /// The 8-byte length and the JSON header: where the data section starts.
  public var headerBytes: Int

  /// True when the metadata describes a Lathe model graph, which `ModelFile` can rebuild.
  public var isLatheModel: Bool { metadata["lathe.model"] != nil }

  public static func read(from url: URL) throws -> SafetensorsListing {
    let header = try SafetensorsHeader.read(headerOf: url)
    return SafetensorsListing(
      tensors: header.entries.map {
        Tensor(
          name: $0.name, dtype: $0.dtypeName, shape: $0.shape, elements: $0.elements, begin: $0.begin, end: $0.end)
      },
      metadata: header.metadata, headerBytes: header.dataStart)
  }
}
