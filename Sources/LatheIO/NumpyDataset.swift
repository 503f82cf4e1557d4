import Foundation
import LatheTensor

/// `--dataset` from NumPy files. Values are taken as they are (converted to fp32, not rescaled):
/// whoever saved the arrays has already preprocessed them.
///
/// - An `.npy` file is the inputs alone, `[N, ...]`: a label-free test split.
/// - An `.npz` holds the inputs keyed by the model's input names (any number) and, optionally,
///   `y`: integer class labels `[N]`, or for a sequence model scored by CTC decoding (an OCR
///   recogniser) `[N, L]`, each row one example's label sequence padded after its end with -1
///   (`ctc_blank`, a single integer, names the blank class; 0 when absent). With one input, its
///   key does not matter (`x` by habit).
/// - An `.npz` with `x_train`, `y_train`, `x_test` or `y_test` keys, or whose every key ends in
///   `_train` or `_test` (a multi-input set without labels: `input_ids_train`,
///   `attention_mask_train`, …), is split by those suffixes (`NAME_train`, `NAME_test`,
///   `y_train`, `y_test`), each part following the rule above; `ctc_blank` applies to both parts.
///
/// Without split keys the whole file is the test split and the train split is empty (never a
/// copy of the test split, which would let fine-tuning steps train on what they are scored on).
extension DatasetCatalog {
  public static func loadNumpy(_ url: URL) throws -> DatasetSplit {
    let name = url.deletingPathExtension().lastPathComponent
    if url.pathExtension.lowercased() == "npy" {
      let test = try numpyPart(
        ["x": try NumpyArray.read(from: url)], name: name, file: url.path, keyNote: "", blank: nil)
      return DatasetSplit(train: emptyLike(test), test: test)
    }
    var arrays = try NumpyArchive.read(from: url)
    let blank = try arrays.removeValue(forKey: blankKey).map { try ctcBlank($0, file: url.path) }
    let splitKeys = ["x_train", "y_train", "x_test", "y_test"]
    let allSuffixed = !arrays.isEmpty && arrays.keys.allSatisfy { $0.hasSuffix("_train") || $0.hasSuffix("_test") }
    guard arrays.keys.contains(where: splitKeys.contains) || allSuffixed else {
      let test = try numpyPart(arrays, name: name, file: url.path, keyNote: "", blank: blank)
      return DatasetSplit(train: emptyLike(test), test: test)
    }
    var parts: [String: [String: NumpyArray]] = ["_train": [:], "_test": [:]]
    for (key, array) in arrays {
      guard let suffix = ["_train", "_test"].first(where: key.hasSuffix) else {
        throw LatheIOError.invalid(
          file: url.path, field: "array \"\(OneLine.escaping(key))\"",
          expected: "a NAME_train or NAME_test key in a split .npz",
          got: "a key with neither suffix")
      }
      parts[suffix]![String(key.dropLast(suffix.count))] = array
    }
    var test = try numpyPart(parts["_test"]!, name: name, file: url.path, keyNote: "_test", blank: blank)
    var train =
      parts["_train"]!.isEmpty
      ? emptyLike(test) : try numpyPart(parts["_train"]!, name: name, file: url.path, keyNote: "_train", blank: blank)
    guard train.sampleShape == test.sampleShape, train.namedInputs.keys.sorted() == test.namedInputs.keys.sorted()
    else {
      throw LatheIOError.invalid(
        file: url.path, field: "train arrays",
        expected: "the inputs of the test arrays, shape [N] + \(test.sampleShape)",
        got: "shape [N] + \(train.sampleShape)")
    }
    let classCount = max(train.classCount, test.classCount)
    (train.classCount, test.classCount) = (classCount, classCount)
    return DatasetSplit(train: train, test: test)
  }

  /// The key of the CTC blank class, shared by both parts of a split file.
  private static let blankKey = "ctc_blank"

  /// One split from its arrays: `y` the labels (optional), every other array an input.
  private static func numpyPart(
    _ arrays: [String: NumpyArray], name: String, file: String, keyNote: String, blank: Int?
  ) throws -> Dataset {
    let inputKeys = arrays.keys.filter { $0 != "y" }.sorted()
    guard let primary = inputKeys.contains("x") ? "x" : inputKeys.first else {
      throw LatheIOError.invalid(
        file: file, field: "arrays", expected: "at least one input array (x\(keyNote), or one per model input)",
        got: arrays.isEmpty ? "none" : "only y\(keyNote)")
    }
    var inputs: [String: Tensor<Float>] = [:]
    for key in inputKeys {
      let array = arrays[key]!
      guard let count = array.shape.first else {
        throw LatheIOError.invalid(
          file: file, field: "array \"\(OneLine.escaping(key))\(keyNote)\"", expected: "a batch axis first, [N, ...]",
          got: "a 0-d array")
      }
      guard count == arrays[primary]!.shape[0] else {
        throw LatheIOError.invalid(
          file: file, field: "array \"\(OneLine.escaping(key))\(keyNote)\"",
          expected: "\(arrays[primary]!.shape[0]) examples, like \"\(OneLine.escaping(primary))\(keyNote)\"",
          got: "shape \(array.shape)")
      }
      // [N] becomes [N, 1]: one feature per example.
      let shape = array.shape.count == 1 ? [count, 1] : array.shape
      inputs[key] = Tensor(shape: shape) { dst in
        for i in 0..<dst.count { dst[i] = array.values[i] }
      }
    }
    let primaryInputs = inputs[primary]!
    let count = primaryInputs.shape[0]
    var labels: [Int]?
    var sequences: [[Int]]?
    if let y = arrays["y"] {
      if y.shape.count == 2 && y.shape[0] == count && y.shape[1] > 1 {
        sequences = try labelSequences(y, file: file, field: "array \"y\(keyNote)\"")
      } else {
        guard y.shape == [count] || y.shape == [count, 1] else {
          throw LatheIOError.invalid(
            file: file, field: "array \"y\(keyNote)\"",
            expected: "one class label per example, shape [\(count)], or one label sequence per example padded "
              + "with -1, shape [\(count), L]", got: "shape \(y.shape)")
        }
        labels = try classLabels(y.values, file: "\(file) (array y\(keyNote))")
      }
    }
    var data = Dataset(
      name: name, inputs: primaryInputs, namedInputs: inputs.count > 1 ? inputs : [:], labels: labels,
      classCount: (labels?.max()).map { $0 + 1 } ?? 0)
    data.sequenceLabels = sequences
    if let blank { data.ctcBlank = blank }
    return data
  }

  /// The rows of `y` [N, L] as label sequences: class indices (integers ≥ 0), then -1 to the end
  /// of the row.
  private static func labelSequences(_ y: NumpyArray, file: String, field: String) throws -> [[Int]] {
    let width = y.shape[1]
    return try (0..<y.shape[0]).map { row in
      let values = y.values[row * width..<(row + 1) * width]
      let end = values.firstIndex(of: -1) ?? values.endIndex
      if let stray = values[end...].firstIndex(where: { $0 != -1 }) {
        throw LatheIOError.invalid(
          file: file, field: "\(field), row \(row), column \(stray - row * width)",
          expected: "-1 after the first -1 (padding to the end of the row)", got: "\(values[stray])")
      }
      return try classLabels(Array(values[..<end]), file: "\(file) (\(field), row \(row))")
    }
  }

  /// `ctc_blank`: one integer class index.
  private static func ctcBlank(_ array: NumpyArray, file: String) throws -> Int {
    guard array.values.count == 1, let blank = try? classLabels(array.values, file: file).first else {
      throw LatheIOError.invalid(
        file: file, field: "array \"\(blankKey)\"", expected: "one integer class index (the CTC blank), 0 or more",
        got: array.values.count == 1 ? "\(array.values[0])" : "shape \(array.shape)")
    }
    return blank
  }

  /// No examples, but the inputs, names and labelling of `other`, for a split the file lacks.
  private static func emptyLike(_ other: Dataset) -> Dataset { other.subset([]) }
}
