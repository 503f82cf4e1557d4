import LatheIO

/// What `inspect` shows of a GGUF file (llama.cpp's format): its tensors with their ggml types,
/// shapes and bytes, and its metadata, all from the header.
struct GGUFListingReport: Encodable, CustomStringConvertible {
  struct TensorRow: Encodable {
    var name: String
    var type: String
    /// Row-major, as the other listings show shapes; `dimensions` is GGUF's own order.
    var shape: [Int]
    var dimensions: [Int]
    var elements: Int
    var bytes: Int
    var offset: Int
  }
  var kind = "tensors"
  var format = "gguf"
  var path: String
  var version: Int
  var sizeBytes: Int
  var alignment: Int
  var dataStart: Int
  var tensors: [TensorRow]
  var elements: Int
  var dataBytes: Int
  /// Bytes per ggml type.
  var types: [String: Int]
  /// Values as text (arrays summarised by type, count and first elements).
  var metadata: [String: String]
  private var metadataOrder: [String]

  init(_ file: GGUFFile, path: String, sizeBytes: Int) {
    self.path = path
    self.sizeBytes = sizeBytes
    version = file.version
    alignment = file.alignment
    dataStart = file.dataStart
    tensors = file.tensors.map {
      TensorRow(
        name: $0.name, type: "\($0.type)", shape: $0.shape, dimensions: $0.dimensions, elements: $0.elements,
        bytes: $0.byteCount, offset: $0.offset)
    }
    // No overflow: the reader checked every tensor's bytes against the file's size, and no
    // type has fewer than 4 bits an element.
    elements = tensors.reduce(0) { $0 + $1.elements }
    dataBytes = tensors.reduce(0) { $0 + $1.bytes }
    types = Dictionary(tensors.map { ($0.type, $0.bytes) }, uniquingKeysWith: +)
    metadata = Dictionary(file.metadata.map { ($0.key, $0.value.description) }, uniquingKeysWith: { a, _ in a })
    metadataOrder = file.metadata.map(\.key)
  }

  private enum CodingKeys: String, CodingKey {
    case kind, format, path, version, sizeBytes, alignment, dataStart, tensors, elements, dataBytes, types, metadata
  }

  var description: String {
    var out = ["\(path): gguf v\(version), \(tensors.count) tensors, \(sizeBytes) bytes on disk"]
    out.append("")
    out += TextTable(
      header: ["tensor", "type", "shape", "elements", "bytes", "bits"],
      rows: tensors.map {
        [
          OneLine.escaping($0.name), $0.type, shapeText($0.shape), "\($0.elements)", "\($0.bytes)",
          $0.elements == 0 ? "-" : String(format: "%.2f", Double($0.bytes * 8) / Double($0.elements)),
        ]
      },
      rightAligned: [3, 4, 5],
      footer: [
        "total", "", "", "\(elements)", "\(dataBytes)",
        elements == 0 ? "-" : String(format: "%.2f", Double(dataBytes * 8) / Double(elements)),
      ]
    ).lines()
    out.append(
      "bytes by type: " + types.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    if !metadataOrder.isEmpty {
      out.append("")
      out += metadataOrder.map { "\(OneLine.escaping($0)): \(metadata[$0] ?? "")" }
    }
    return out.joined(separator: "\n")
  }
}
