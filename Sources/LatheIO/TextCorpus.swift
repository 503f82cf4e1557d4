import Foundation
import LatheTensor

/// Plain text as a language model's dataset: the bytes of the text are the token ids (the
/// bundled byte-level GPT's vocabulary of 256), cut into windows of `window` positions, each
/// with the byte that follows every position (`Dataset.nextTokens`).
///
/// A folder holds `train.txt` and `test.txt` (either may be gzipped: `train.txt.gz`); a single
/// `.txt` (or `.txt.gz`) file is split at 90% of its length, the end becoming the test part.
/// Training windows overlap by half (more examples from a small text); test windows do not,
/// so every test byte is scored once.
public enum TextCorpus {
  public static let vocabulary = 256
  public static let defaultWindow = 128
  /// The most text one part may hold (the windows are floats: 4 bytes per byte and window).
  public static let byteLimit = 64 << 20

  /// Whether `directory` holds a corpus's `train.txt` and `test.txt`, gzipped or not.
  public static func looksLikeCorpus(_ directory: URL) -> Bool {
    ["train", "test"].allSatisfy { part(directory, $0) != nil }
  }

  /// Whether `url` names one text file (`.txt`, `.txt.gz`).
  public static func isTextFile(_ url: URL) -> Bool {
    let name = url.lastPathComponent.lowercased()
    return name.hasSuffix(".txt") || name.hasSuffix(".txt.gz")
  }

  public static func load(_ url: URL, window: Int = defaultWindow) throws -> DatasetSplit {
    var isDirectory: ObjCBool = false
    _ = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
    let name = url.deletingPathExtension().lastPathComponent.replacingOccurrences(of: ".txt", with: "")
    if isDirectory.boolValue {
      let train = try bytes(of: part(url, "train")!)
      let test = try bytes(of: part(url, "test")!)
      return try split(name: url.lastPathComponent, train: train, test: test, window: window, file: url.path)
    }
    let all = try bytes(of: url)
    let cut = all.count * 9 / 10
    return try split(
      name: name, train: Array(all[..<cut]), test: Array(all[cut...]), window: window, file: url.path)
  }

  /// Windows of `window` ids from `text`, `stride` apart, with the id after each position.
  public static func windows(_ text: [UInt8], window: Int, stride: Int) -> (inputs: Tensor<Float>, next: Tensor<Float>)
  {
    let count = text.count > window ? (text.count - window - 1) / stride + 1 : 0
    var inputs = [Float](repeating: 0, count: count * window)
    var next = [Float](repeating: 0, count: count * window)
    for w in 0..<count {
      for i in 0..<window {
        inputs[w * window + i] = Float(text[w * stride + i])
        next[w * window + i] = Float(text[w * stride + i + 1])
      }
    }
    return (Tensor(shape: [count, window], scalars: inputs), Tensor(shape: [count, window], scalars: next))
  }

  private static func split(name: String, train: [UInt8], test: [UInt8], window: Int, file: String) throws
    -> DatasetSplit
  {
    for (part, text) in [("train", train), ("test", test)] where text.count <= window {
      throw LatheIOError.invalid(
        file: file, field: "\(part) text", expected: "more than \(window) bytes (one window and the byte after it)",
        got: "\(text.count) bytes")
    }
    let t = windows(train, window: window, stride: max(1, window / 2))
    let v = windows(test, window: window, stride: window)
    return DatasetSplit(
      train: Dataset(name: name, tokens: t.inputs, nextTokens: t.next, vocabulary: vocabulary),
      test: Dataset(name: name, tokens: v.inputs, nextTokens: v.next, vocabulary: vocabulary))
  }

  private static func part(_ directory: URL, _ name: String) -> URL? {
    ["\(name).txt", "\(name).txt.gz"].map { directory.appendingPathComponent($0) }
      .first { FileManager.default.fileExists(atPath: $0.path) }
  }

  private static func bytes(of url: URL) throws -> [UInt8] {
    let data = try Gzip.readMaybeCompressed(url)
    guard data.count <= byteLimit else { throw LatheIOError.tooLarge(file: url.path, limit: byteLimit) }
    return data
  }
}
