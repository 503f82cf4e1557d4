import Foundation
import LatheIO
import LatheTensor

/// Opens models by bundled sample name (`lenet-5`) or by path, compressed or not.
public enum ModelCatalog {
  /// The bundled sample models' names.
  public static func sampleNames() -> [String] {
    guard let folder = SamplesDirectory.locate()?.appendingPathComponent("models"),
      let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path)
    else { return [] }
    return files.filter { $0.hasSuffix(".safetensors") }.map { String($0.dropLast(".safetensors".count)) }.sorted()
  }

  /// A path (absolute, relative to `base`, or to the working directory) or a sample name.
  public static func load(_ nameOrPath: String, relativeTo base: URL? = nil) throws -> Model {
    try ModelFile.load(from: resolve(nameOrPath, relativeTo: base), builders: CompressedLayers.builders)
  }

  public static func resolve(_ nameOrPath: String, relativeTo base: URL? = nil) throws -> URL {
    let fm = FileManager.default
    var candidates: [URL] = []
    if nameOrPath.hasPrefix("/") {
      candidates.append(URL(fileURLWithPath: nameOrPath))
    } else {
      if let base { candidates.append(base.appendingPathComponent(nameOrPath)) }
      candidates.append(URL(fileURLWithPath: fm.currentDirectoryPath).appendingPathComponent(nameOrPath))
      if let samples = SamplesDirectory.locate() {
        candidates.append(samples.appendingPathComponent("models/\(nameOrPath).safetensors"))
      }
    }
    if let found = candidates.first(where: { fm.fileExists(atPath: $0.path) }) { return found.standardizedFileURL }
    throw LatheIOError.unreadable(
      file: nameOrPath,
      reason: "no such file, and not a bundled model (bundled: \(sampleNames().joined(separator: ", ")))")
  }
}
