import Foundation

/// The optional `dataset.json` beside a dataset's files: `{"name": ..., "scale": ..., ...}`.
/// `scale` is the pixel value that maps to 1.0 (16 for the 8x8 digits, whose pixels run 0-16);
/// other keys (source, split) are documentation and ignored here.
struct DatasetMetadata {
  var name: String?
  var scale: Float?

  static let fileName = "dataset.json"

  /// The metadata in `directory`, or empty metadata when there is no `dataset.json`.
  static func read(in directory: URL) throws -> DatasetMetadata {
    guard let (url, fields) = try fields(in: directory) else { return DatasetMetadata() }
    var metadata = DatasetMetadata()
    if let name = fields["name"] {
      guard let text = name as? String else {
        throw LatheIOError.invalid(
          file: url.path, field: "field \"name\"", expected: "a string",
          got: JSONText.describe(name))
      }
      metadata.name = text
    }
    if let scale = fields["scale"] {
      guard let number = JSONText.number(scale), number > 0, number.isFinite else {
        throw LatheIOError.invalid(
          file: url.path, field: "field \"scale\"",
          expected: "a positive number (the pixel value that means 1.0)",
          got: JSONText.describe(scale))
      }
      metadata.scale = Float(number)
    }
    return metadata
  }

  /// The `dataset.json` in `directory` and its top-level fields, or nil when there is none.
  static func fields(in directory: URL) throws -> (URL, [String: Any])? {
    let url = directory.appendingPathComponent(fileName)
    guard FileManager.default.fileExists(atPath: url.path) else { return nil }
    let bytes = try FileBytes.read(url)
    guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)),
      let fields = object as? [String: Any]
    else {
      throw LatheIOError.invalid(
        file: url.path, field: "contents", expected: "a JSON object", got: "something else")
    }
    return (url, fields)
  }
}
