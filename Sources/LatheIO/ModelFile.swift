import Foundation
import LatheTensor

/// Lathe's native model file: safetensors, with the architecture and the training record in
/// the header's `__metadata__`, so any safetensors reader sees the tensors and Lathe rebuilds
/// the graph from the same file.
///
/// Metadata keys: `format` = "lathe", `lathe.version`, `lathe.model` (the `ModelDescription` as
/// JSON); every other key is the model's own metadata (dataset, epochs, accuracy...).
public enum ModelFile {
  public static let formatVersion = "1"

  /// Writes the model atomically (temporary file, then rename). A model holding a layer a file
  /// cannot hold now (`SometimesUnsavable`) is refused with the reason, and nothing is written.
  public static func save(_ model: Model, to url: URL) throws {
    if let (node, reason) = NodeList.firstUnsavable(model.nodes) {
      throw LatheIOError.invalid(
        file: url.path, field: "node \"\(node)\"", expected: "a layer a Lathe model file can hold", got: reason)
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let description = String(decoding: try encoder.encode(ModelDescription(model)), as: UTF8.self)
    var metadata = model.metadata
    metadata["format"] = "lathe"
    metadata["lathe.version"] = formatVersion
    metadata["lathe.model"] = description
    let tensors = model.storedTensors.map { (name: $0.name, tensor: $0.tensor) }
    try SafetensorsFile(tensors: tensors, metadata: metadata).write(to: url)
  }

  /// Reads and validates a model file: container, architecture, every tensor's presence,
  /// shape and finiteness. Errors name the file and what is wrong.
  /// `builders` make the layers LatheTensor does not know (quantized, sparse...).
  public static func load(from url: URL, builders: [LayerBuilding] = []) throws -> Model {
    let file = try SafetensorsFile.read(from: url)
    return try model(from: file, path: url.path, builders: builders)
  }

  static func model(from file: SafetensorsFile, path: String, builders: [LayerBuilding]) throws -> Model {
    guard let json = file.metadata["lathe.model"] else {
      throw LatheIOError.invalid(
        file: path, field: "header field \"__metadata__.lathe.model\"",
        expected: "the model's architecture (a Lathe model file)", got: "nothing")
    }
    if let version = file.metadata["lathe.version"], version != formatVersion {
      throw LatheIOError.unsupported(
        file: path, field: "header field \"__metadata__.lathe.version\"", value: version, supported: [formatVersion])
    }
    let description: ModelDescription
    do {
      description = try JSONDecoder().decode(ModelDescription.self, from: Data(json.utf8))
    } catch {
      throw LatheIOError.invalid(
        file: path, field: "header field \"__metadata__.lathe.model\"", expected: "a model description",
        got: "JSON that does not decode (\(error))")
    }
    var metadata = file.metadata
    for key in ["format", "lathe.version", "lathe.model"] { metadata[key] = nil }
    let tensors = Dictionary(file.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
    do {
      let model = try description.makeModel(metadata: metadata, builders: builders)
      try model.restore(from: tensors)
      // Kernels trust shapes: a graph whose shapes do not fit is refused here, not trapped on.
      try model.checkShapes()
      return model
    } catch {
      throw LatheIOError.invalid(
        file: path, field: "model", expected: "a consistent architecture and tensors", got: error.description)
    }
  }
}
