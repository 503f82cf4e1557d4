import Foundation
import LatheIO

/// The three things the workbench opens.
public enum OpenKind: String, Codable, Sendable, CaseIterable {
  case model, dataset, pipeline
}

/// One row of the Open screen: a folder, or a file the workbench can open, with what it is and
/// how big. A folder that is itself a model (a Hugging Face checkpoint) or a dataset (IDX files,
/// a text corpus, an ImageFolder) has a kind too: enter opens it, right-arrow goes into it.
struct OpenableFile: Equatable {
  var name: String
  var url: URL
  var isFolder: Bool
  /// nil for a plain folder.
  var kind: OpenKind?
  /// The file's size; for a model or dataset folder the files directly in it (nil when it has
  /// subfolders, which are not walked); nil for plain folders.
  var bytes: Int?

  /// What `kind` is, from the name and, for folders, the files that mark a model or dataset:
  /// - model: `.onnx`, `.safetensors`, a folder with `config.json` (`ModelOpener`);
  /// - dataset: `.csv`, `.csv.gz`, `.npy`, `.npz`, `.txt`, `.txt.gz`, a folder of IDX files, a
  ///   text corpus (`train.txt` and `test.txt`), or an ImageFolder with `dataset.json` or
  ///   `train/` and `val/` (or `test/`) subfolders (`DatasetCatalog`);
  /// - pipeline: `.yaml`, `.yml`, or a `.json` file with a `steps` list (`PipelineSpec`).
  static func kind(of url: URL, isFolder: Bool) -> OpenKind? {
    let fm = FileManager.default
    if isFolder {
      if fm.fileExists(atPath: url.appendingPathComponent("config.json").path) { return .model }
      let names = (try? fm.contentsOfDirectory(atPath: url.path)) ?? []
      if names.contains(where: { $0.contains("idx") && $0.contains("ubyte") }) { return .dataset }
      if names.contains("dataset.json") || TextCorpus.looksLikeCorpus(url) { return .dataset }
      if names.contains("train"), names.contains("val") || names.contains("test") { return .dataset }
      return nil
    }
    let name = url.lastPathComponent.lowercased()
    if name.hasSuffix(".onnx") || name.hasSuffix(".safetensors") { return .model }
    if [".csv", ".csv.gz", ".npy", ".npz", ".txt", ".txt.gz"].contains(where: name.hasSuffix) { return .dataset }
    if name.hasSuffix(".yaml") || name.hasSuffix(".yml") { return .pipeline }
    if name.hasSuffix(".json"), isPipelineJSON(url) { return .pipeline }
    return nil
  }

  /// A JSON pipeline is a map with a `steps` list; anything larger than a pipeline could be
  /// is not read (a model's `config.json` never gets this far, but a large export might).
  static func isPipelineJSON(_ url: URL) -> Bool {
    guard url.fileSizeOnDisk <= 1 << 20, let data = try? Data(contentsOf: url),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return false }
    return object["steps"] is [Any]
  }

  /// The entry for an existing path; nil when nothing is there.
  static func at(_ url: URL) -> OpenableFile? {
    var folder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &folder) else { return nil }
    let kind = kind(of: url, isFolder: folder.boolValue)
    let bytes = folder.boolValue ? (kind == nil ? nil : folderBytes(url)) : url.fileSizeOnDisk
    return OpenableFile(name: url.lastPathComponent, url: url, isFolder: folder.boolValue, kind: kind, bytes: bytes)
  }

  /// Folders, then files the workbench opens, each sorted by name; hidden ones and other files
  /// left out. Throws when the folder cannot be listed.
  static func list(_ directory: URL) throws -> [OpenableFile] {
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
    let entries = names.filter { !$0.hasPrefix(".") }.compactMap { at(directory.appendingPathComponent($0)) }
    let folders = entries.filter(\.isFolder).sorted { $0.name < $1.name }
    let files = entries.filter { !$0.isFolder && $0.kind != nil }.sorted { $0.name < $1.name }
    return folders + files
  }

  /// The sizes of the files directly in `folder`; nil when it holds folders too.
  private static func folderBytes(_ folder: URL) -> Int? {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    var total = 0
    for name in names {
      let url = folder.appendingPathComponent(name)
      if PathCompletion.isFolder(url) { return nil }
      total += url.fileSizeOnDisk
    }
    return total
  }
}
