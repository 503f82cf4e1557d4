import Foundation
import LatheTensor

/// torchvision's ImageFolder layout: one subfolder per class, whose sorted names give the class
/// indices (`cat/`, `dog/` → 0, 1), holding PNG and JPEG files (in nested folders too; other
/// files are skipped). With `train/` and `val/` (or `test/`) subfolders each is a split over
/// the union of their class names; otherwise the whole folder is the test split and the train
/// split is empty. Images become [N, 3, H, W] (or [N, 1, H, W]) fp32 through
/// `ImageFolderSettings`, read from `dataset.json` in the top folder.
public enum ImageFolder {
  static let extensions: Set<String> = ["png", "jpg", "jpeg"]

  /// True when `directory` holds subfolders and no IDX files, so it is read as an ImageFolder.
  static func looksLikeImageFolder(_ directory: URL) -> Bool {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    if names.contains(where: { $0.contains("idx") && $0.contains("ubyte") }) { return false }
    return !subfolders(of: directory).isEmpty
  }

  /// The split's examples: every image of every class folder, classes in `classes` order.
  public static func load(_ directory: URL, classes: [String], settings: ImageFolderSettings, name: String) throws
    -> Dataset
  {
    var files: [(URL, Int)] = []
    for (index, className) in classes.enumerated() {
      let folder = directory.appendingPathComponent(className)
      files += imageFiles(in: folder).map { ($0, index) }
    }
    let (h, w, c) = (settings.cropHeight, settings.cropWidth, settings.channels)
    let per = c * h * w
    var values = [Float](repeating: 0, count: files.count * per)
    for (row, (url, _)) in files.enumerated() {
      let image = try ImageCodec.read(from: url, grayscale: settings.grayscale)
      let resized = ImageResample.resizedSize(width: image.width, height: image.height, shorter: settings.resize)
      guard resized.width >= w, resized.height >= h else {
        throw LatheIOError.invalid(
          file: url.path, field: "image size",
          expected: "at least the \(w)x\(h) crop after resizing (shorter side \(settings.resize))",
          got: "\(image.width)x\(image.height), resized to \(resized.width)x\(resized.height)")
      }
      let planar = ImageResample.planar(image, shorter: settings.resize, cropHeight: h, cropWidth: w)
      for channel in 0..<c {
        let (mean, std) = (settings.mean[channel], settings.std[channel])
        for i in 0..<(h * w) {
          values[row * per + channel * h * w + i] = (planar[channel * h * w + i] / 255 - mean) / std
        }
      }
    }
    let inputs = Tensor<Float>(shape: [files.count, c, h, w]) { dst in
      for i in 0..<dst.count { dst[i] = values[i] }
    }
    return Dataset(name: name, inputs: inputs, labels: files.map(\.1), classCount: classes.count)
  }

  /// The visible subfolders of `directory`, sorted by name (byte order, as Python sorts).
  static func subfolders(of directory: URL) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
    return names.filter { name in
      var isFolder: ObjCBool = false
      return !name.hasPrefix(".")
        && FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path, isDirectory: &isFolder)
        && isFolder.boolValue
    }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
  }

  /// The PNG and JPEG files under `folder`, at any depth, in sorted path order.
  static func imageFiles(in folder: URL) -> [URL] {
    guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
    var found: [URL] = []
    for case let url as URL in walker where extensions.contains(url.pathExtension.lowercased()) {
      if !url.lastPathComponent.hasPrefix(".") { found.append(url) }
    }
    return found.sorted { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
  }
}

extension DatasetCatalog {
  /// Loads an ImageFolder directory (see `ImageFolder`).
  public static func loadImageFolder(_ directory: URL) throws -> DatasetSplit {
    let settings = try ImageFolderSettings.read(in: directory)
    let name = try DatasetMetadata.read(in: directory).name ?? directory.lastPathComponent
    let top = ImageFolder.subfolders(of: directory)
    let testFolder = ["val", "test"].first(where: top.contains)
    guard top.contains("train"), let testFolder else {
      let classes = top
      try requireImages(directory, classes: classes)
      let test = try ImageFolder.load(directory, classes: classes, settings: settings, name: name)
      return DatasetSplit(train: test.subset([]), test: test)
    }
    let trainURL = directory.appendingPathComponent("train")
    let testURL = directory.appendingPathComponent(testFolder)
    let classes = Set(ImageFolder.subfolders(of: trainURL) + ImageFolder.subfolders(of: testURL)).sorted {
      Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8))
    }
    try requireImages(testURL, classes: classes)
    return DatasetSplit(
      train: try ImageFolder.load(trainURL, classes: classes, settings: settings, name: name),
      test: try ImageFolder.load(testURL, classes: classes, settings: settings, name: name))
  }

  private static func requireImages(_ directory: URL, classes: [String]) throws {
    guard classes.contains(where: { !ImageFolder.imageFiles(in: directory.appendingPathComponent($0)).isEmpty })
    else {
      throw LatheIOError.invalid(
        file: directory.path, field: "class folders (\(classes.joined(separator: ", ")))",
        expected: "PNG or JPEG images (.png, .jpg, .jpeg) in one folder per class", got: "none")
    }
  }
}
