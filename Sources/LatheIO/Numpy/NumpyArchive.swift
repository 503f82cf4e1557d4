import Foundation

/// `.npz` files, as `numpy.savez` and `savez_compressed` write them: a zip archive with one
/// `.npy` member per array, the key being the member name without `.npy`.
public enum NumpyArchive {
  public static func read(from url: URL) throws -> [String: NumpyArray] {
    try decode(try FileBytes.read(url), file: url.path)
  }

  /// The arrays of an `.npz` file's bytes by key; members not ending in `.npy` are refused.
  public static func decode(_ bytes: [UInt8], file: String) throws -> [String: NumpyArray] {
    var arrays: [String: NumpyArray] = [:]
    for member in try ZipArchive.decode(bytes, file: file) {
      guard member.name.hasSuffix(".npy") else {
        throw LatheIOError.invalid(
          file: file, field: "zip member \"\(OneLine.escaping(member.name))\"", expected: "an .npy array (NAME.npy)",
          got: "another kind of file")
      }
      let key = String(member.name.dropLast(4))
      arrays[key] = try NumpyArray.decode(member.bytes, file: "\(file) (member \(OneLine.escaping(member.name)))")
    }
    return arrays
  }

  /// The `.npz` bytes of `arrays`, members in key order, deflated when `compressed` (like
  /// `savez_compressed`) and stored otherwise (like `savez`).
  public static func encode(_ arrays: [String: NumpyArray], compressed: Bool = false) throws -> [UInt8] {
    let members = try arrays.keys.sorted().map { key in
      ZipArchive.Member(name: key + ".npy", bytes: try arrays[key]!.encoded())
    }
    return try ZipArchive.encode(members, compressed: compressed)
  }

  /// Writes the `.npz` file atomically (see `AtomicFile`).
  public static func write(_ arrays: [String: NumpyArray], to url: URL, compressed: Bool = false) throws {
    try AtomicFile.write(try encode(arrays, compressed: compressed), to: url)
  }
}
