import LatheIO

/// What `GGUFExport` writes: the weights' type, the names and the metadata.
public struct GGUFExportOptions: Sendable {
  /// The type of tensors of rank 2 and more: one of `GGMLType.codable`. Tensors of rank 1
  /// (biases, norms) stay F32, as llama.cpp keeps them.
  public var type: GGMLType
  /// `general.name`.
  public var name: String
  /// `general.architecture`; the model's own architecture name when nil.
  public var architecture: String?
  public var names: GGUFNameMap
  /// Written after the general keys; a key given here replaces a general key of that name.
  public var metadata: [(key: String, value: GGUFValue)]

  public init(
    type: GGMLType, name: String, architecture: String? = nil, names: GGUFNameMap = .lathe,
    metadata: [(key: String, value: GGUFValue)] = []
  ) {
    self.type = type
    self.name = name
    self.architecture = architecture
    self.names = names
    self.metadata = metadata
  }

  /// The names the command line takes (`--type q4_k`), lower-cased ggml type names.
  public static let typeNames: [String: GGMLType] = Dictionary(
    uniqueKeysWithValues: GGMLType.codable.map { ("\($0)".lowercased(), $0) })

  /// `general.file_type`: llama.cpp's `llama_ftype` for a file mostly of `type` (1-D tensors
  /// excepted). Q4_K alone is its "Q4_K_S"; "Q4_K_M" mixes in Q6_K, which Lathe does not write.
  public static func fileType(_ type: GGMLType) -> UInt32 {
    switch type {
    case .f32: return 0
    case .f16: return 1
    case .q40: return 2
    case .q80: return 7
    case .q4K: return 14
    default: preconditionFailure("no file type for \(type)")
    }
  }
}
