import Foundation
import FuzzSupport
import LatheIO

// A GGUF file as `lathe inspect` reads it (mapped, header only), then every tensor of a type
// Lathe decodes turned into floats; a file that parses is written again by GGUFWriter and must
// read back with the same tensors (names, dimensions, types, bytes) and metadata keys.
private let url = FuzzInput.scratchURL(extension: "gguf")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  FuzzInput.write(data, size, to: url)
  let file: GGUFFile
  do {
    file = try GGUFFile.read(from: url)
    for tensor in file.tensors where GGMLType.codable.contains(tensor.type) { _ = try file.floats(of: tensor) }
  } catch {
    FuzzInput.checkOneLine(error)
    return 0
  }
  let tensors = file.tensors.map {
    GGUFTensor(name: $0.name, dimensions: $0.dimensions, type: $0.type, data: file.data(of: $0))
  }
  // The writer refuses what the reader tolerates (no dimensions, a name too long for it): fine.
  guard let bytes = try? GGUFWriter.encode(metadata: file.metadata, tensors: tensors) else { return 0 }
  do {
    let again = try GGUFFile.decode(Data(bytes), file: "again.gguf")
    precondition(again.tensors.map(\.name) == file.tensors.map(\.name), "GGUF round trip changed the names")
    precondition(again.tensors.map(\.dimensions) == file.tensors.map(\.dimensions), "round trip changed dimensions")
    precondition(again.tensors.map(\.type) == file.tensors.map(\.type), "GGUF round trip changed the types")
    precondition(again.tensors.map { again.data(of: $0) } == tensors.map(\.data), "GGUF round trip changed data")
    let added = file["general.alignment"] == nil ? ["general.alignment"] : []
    precondition(again.metadata.map(\.key) == file.metadata.map(\.key) + added, "GGUF round trip changed the keys")
  } catch {
    fatalError("a file GGUFWriter wrote does not read back: \(error)")
  }
  return 0
}
