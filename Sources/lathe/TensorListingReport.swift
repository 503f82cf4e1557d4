import LatheIO

/// What `inspect` shows of a safetensors file that holds no Lathe graph (a Hugging Face
/// checkpoint, say): its tensors from the header, with dtypes, shapes, bytes and totals.
struct TensorListingReport: Encodable, CustomStringConvertible {
  struct TensorRow: Encodable {
    var name: String
    var dtype: String
    var shape: [Int]
    var elements: Int
    var bytes: Int
    /// `[begin, end]` in the data section, as the header gives them.
    var dataOffsets: [Int]
  }
  var kind = "tensors"
  var format = "safetensors"
  var path: String
  var sizeBytes: Int
  var headerBytes: Int
  var tensors: [TensorRow]
  var elements: Int
  var dataBytes: Int
  /// Bytes per dtype.
  var dtypes: [String: Int]
  var metadata: [String: String]

  init(_ listing: SafetensorsListing, path: String, sizeBytes: Int) {
    self.path = path
    self.sizeBytes = sizeBytes
    headerBytes = listing.headerBytes
    tensors = listing.tensors.map {
      TensorRow(
        name: $0.name, dtype: $0.dtype, shape: $0.shape, elements: $0.elements, bytes: $0.bytes,
        dataOffsets: [$0.begin, $0.end])
    }
    // No overflow: every dtype has at least 4 bits, so the elements are at most twice the
    // data section's bytes, which the header reader checked against the file's size.
    elements = tensors.reduce(0) { $0 + $1.elements }
    dataBytes = tensors.reduce(0) { $0 + $1.bytes }
    dtypes = Dictionary(tensors.map { ($0.dtype, $0.bytes) }, uniquingKeysWith: +)
    metadata = listing.metadata
  }

  var description: String {
    var out = [
      "\(path): safetensors, \(tensors.count) tensors, no Lathe graph (not a Lathe model), "
        + "\(sizeBytes) bytes on disk"
    ]
    out.append("")
    out += TextTable(
      header: ["tensor", "dtype", "shape", "elements", "bytes"],
      rows: tensors.map { [$0.name, $0.dtype, shapeText($0.shape), "\($0.elements)", "\($0.bytes)"] },
      rightAligned: [3, 4],
      footer: ["total", "", "", "\(elements)", "\(dataBytes)"]
    ).lines()
    out.append(
      "bytes by dtype: " + dtypes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    if !metadata.isEmpty {
      out.append("")
      out += metadata.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
    }
    return out.joined(separator: "\n")
  }
}
