import Foundation
import FuzzSupport
import LatheONNX
import LatheTensor
import LatheWorkspace

// ONNX import as the CLI does it, then a forward pass of a batch of two when the model opens
// and its input is small.

/// Seeds that open: with LATHE_FUZZ_SAMPLES (a folder of .safetensors models) and
/// LATHE_FUZZ_CORPUS set, each sample is exported as ONNX into the corpus before fuzzing starts
/// (libFuzzer calls this before it reads the corpus). The regression files alone all fail early.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(
  _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> CInt {
  let environment = ProcessInfo.processInfo.environment
  guard let samples = environment["LATHE_FUZZ_SAMPLES"], let corpus = environment["LATHE_FUZZ_CORPUS"] else { return 0 }
  let files = (try? FileManager.default.contentsOfDirectory(atPath: samples)) ?? []
  for name in files.sorted() where name.hasSuffix(".safetensors") {
    let seed = URL(fileURLWithPath: corpus).appendingPathComponent("export-\(name).onnx")
    guard !FileManager.default.fileExists(atPath: seed.path) else { continue }
    do {
      let model = try ModelOpener.open(URL(fileURLWithPath: samples).appendingPathComponent(name))
      try ONNXExporter.data(model).write(to: seed)
    } catch {
      print("fuzz-onnx: no seed from \(name): \(error)")
    }
  }
  return 0
}
/// The node listing `lathe inspect` shows for graphs Lathe cannot run reads from a file.
private let listingURL = FuzzInput.scratchURL(extension: "onnx")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  FuzzInput.write(data, size, to: listingURL)
  do {
    _ = try ONNXGraphListing.read(contentsOf: listingURL)
  } catch {
    FuzzInput.checkOneLine(error)
  }
  let model: Model
  do {
    let graph = try ONNXImporter.load(
      data: Data(bytes: data, count: size), path: "fuzz.onnx", options: ONNXImportOptions(floatingOutputsOnly: true))
    model = try graph.model(architecture: "fuzz")
    _ = try model.checkShapes()
  } catch {
    FuzzInput.checkOneLine(error)
    return 0
  }
  guard let elements = elementCount([2] + model.inputShape), elements <= 1 << 16 else { return 0 }
  _ = model.predict(Tensor(repeating: 0.5, shape: [2] + model.inputShape))
  return 0
}

/// The product of `shape`, or nil when a dimension is negative or the product overflows.
private func elementCount(_ shape: [Int]) -> Int? {
  var count = 1
  for d in shape {
    guard d >= 0 else { return nil }
    let (product, overflow) = count.multipliedReportingOverflow(by: d)
    if overflow { return nil }
    count = product
  }
  return count
}
