import Foundation
import LatheCompress
import LatheIO
import LatheONNX
import LatheTensor

/// The one way Lathe opens a model: by bundled sample name (`lenet-5`) or by path, in any
/// format, chosen by content: ONNX protobuf, Lathe's safetensors files (compressed layers and
/// imported ONNX layers included), or a Hugging Face checkpoint folder (config.json and
/// model.safetensors of a BERT or GPT-2 model). The CLI, the workbench, pipelines and search trials all open
/// models here, so a file that opens in one opens in all.
public enum ModelOpener {
  public enum Format: String, Sendable {
    case onnx, safetensors
    /// A Hugging Face checkpoint folder: opened, never written.
    case huggingFace = "huggingface"
  }

  /// The builders for every layer a Lathe model file may hold.
  public static var builders: [LayerBuilding] { ONNXLayers.builders }

  /// The bundled models are Lathe files, or ONNX files as their authors published them.
  static let sampleExtensions = [".safetensors", ".onnx"]

  /// The bundled sample models' names.
  public static func sampleNames() -> [String] {
    guard let folder = SamplesDirectory.locate()?.appendingPathComponent("models"),
      let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path)
    else { return [] }
    return files.compactMap { file in
      sampleExtensions.first { file.hasSuffix($0) }.map { String(file.dropLast($0.count)) }
    }.sorted()
  }

  /// A path (absolute, relative to `base`, or to the working directory) or a sample name.
  public static func open(_ nameOrPath: String, relativeTo base: URL? = nil) throws -> Model {
    try open(resolve(nameOrPath, relativeTo: base))
  }

  /// Where `nameOrPath` is: tried as given (absolute, then under `base`, then the working
  /// directory), then as a bundled sample's name.
  public static func resolve(_ nameOrPath: String, relativeTo base: URL? = nil) throws -> URL {
    let fm = FileManager.default
    var candidates: [URL] = []
    if nameOrPath.hasPrefix("/") {
      candidates.append(URL(fileURLWithPath: nameOrPath))
    } else {
      if let base { candidates.append(base.appendingPathComponent(nameOrPath)) }
      candidates.append(URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent(nameOrPath))
      if let samples = SamplesDirectory.locate() {
        for ext in sampleExtensions { candidates.append(samples.appendingPathComponent("models/\(nameOrPath)\(ext)")) }
      }
    }
    if let found = candidates.first(where: { fm.fileExists(atPath: $0.path) }) { return found.standardizedFileURL }
    throw LatheIOError.unreadable(
      file: nameOrPath,
      reason: "no such file, and not a bundled model (bundled: \(sampleNames().joined(separator: ", ")))")
  }

  public static func open(_ url: URL) throws -> Model {
    switch try format(of: url) {
    case .onnx:
      // A Lathe model computes scores: extra label outputs (skl2onnx classifiers) are left out.
      let graph = try ONNXImporter.load(contentsOf: url, options: ONNXImportOptions(floatingOutputsOnly: true))
      return try graph.model(architecture: url.deletingPathExtension().lastPathComponent)
    case .safetensors:
      return try ModelFile.load(from: url, builders: builders)
    case .huggingFace:
      return try HuggingFaceCheckpoint.load(folder: url)
    }
  }

  /// ONNX by extension; otherwise by the first bytes: a safetensors file starts with an 8-byte
  /// little-endian header length followed by "{", an ONNX file with protobuf field 1 (0x08).
  public static func format(of url: URL) throws -> Format {
    if HuggingFaceCheckpoint.isCheckpoint(url) { return .huggingFace }
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
    case .huggingFace:
      throw LatheIOError.unencodable(
        what: url.path, reason: "Lathe opens Hugging Face checkpoints but writes onnx or safetensors")
    }
  }
}
