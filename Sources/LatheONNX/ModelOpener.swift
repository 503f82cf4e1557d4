import Foundation
import LatheCompress
import LatheIO
import LatheTensor

/// Opens any model Lathe reads, choosing the format by content: ONNX protobuf or Lathe's
/// safetensors files (compressed layers and imported ONNX layers included). The CLI, pipelines
/// and benchmarks all go through here.
public enum ModelOpener {
  public enum Format: String, Sendable { case onnx, safetensors }

  /// The builders for every layer a Lathe model file may hold.
  public static var builders: [LayerBuilding] { ONNXLayers.builders }

  /// A path, or a bundled sample name (as `ModelCatalog` resolves them).
  public static func open(_ nameOrPath: String, relativeTo base: URL? = nil) throws -> Model {
    try open(ModelCatalog.resolve(nameOrPath, relativeTo: base))
  }

  public static func open(_ url: URL) throws -> Model {
    switch try format(of: url) {
    case .onnx:
      // A Lathe model computes scores: extra label outputs (skl2onnx classifiers) are left out.
      let graph = try ONNXImporter.load(contentsOf: url, options: ONNXImportOptions(floatingOutputsOnly: true))
      return try graph.model(architecture: url.deletingPathExtension().lastPathComponent)
    case .safetensors:
      return try ModelFile.load(from: url, builders: builders)
    }
  }

  /// ONNX by extension; otherwise by the first bytes: a safetensors file starts with an 8-byte
  /// little-endian header length followed by "{", an ONNX file with protobuf field 1 (0x08).
  public static func format(of url: URL) throws -> Format {
    let ext = url.pathExtension.lowercased()
    if ext == "onnx" { return .onnx }
    if ext == "safetensors" { return .safetensors }
    guard let handle = try? FileHandle(forReadingFrom: url) else {
      throw LatheIOError.unreadable(file: url.path, reason: "cannot open the file")
    }
    defer { try? handle.close() }
    let head = [UInt8](handle.readData(ofLength: 9))
    if head.count == 9, head[8] == UInt8(ascii: "{") { return .safetensors }
    return head.first == 0x08 ? .onnx : .safetensors
  }

  /// Writes `model` in `format`, atomically.
  public static func save(_ model: Model, to url: URL, format: Format) throws {
    switch format {
    case .onnx: try ONNXExporter.save(model, to: url)
    case .safetensors: try ModelFile.save(model, to: url)
    }
  }
}
