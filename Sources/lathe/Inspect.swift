import ArgumentParser
import Foundation
import LatheCompress
import LatheIO
import LatheONNX
import LatheTensor
import LatheWorkspace

extension Lathe {
  struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The layers of a model: shapes, parameters, bytes, sparsity, kernels.",
      discussion: """
        An ONNX graph with operators Lathe cannot run is listed node by node, those nodes marked; \
        a safetensors file that is not a Lathe model (a Hugging Face checkpoint) as its tensors, and a \
        GGUF file (llama.cpp's) as its tensors, their ggml types and its metadata.
        """)

    @Argument(help: "Model file (.safetensors, .onnx or .gguf), or a bundled model's name.") var model: String
    @Flag(name: .long, help: "Print one JSON object on stdout.") var json = false

    func run() throws {
      try reportingErrors {
        let url = try ModelOpener.resolve(model)
        let size = url.fileSizeOnDisk
        // GGUF holds weights without a Lathe graph: listed, never opened as a model.
        if GGUFFile.isGGUF(url) {
          return try show(GGUFListingReport(try GGUFFile.read(from: url), path: model, sizeBytes: size))
        }
        let format = try ModelOpener.format(of: url)
        // Files Lathe cannot run still show what they hold: a safetensors file without a
        // Lathe graph as its tensors, an ONNX graph with operators Lathe lacks as its nodes.
        if format == .safetensors {
          let listing = try SafetensorsListing.read(from: url)
          if !listing.isLatheModel {
            return try show(TensorListingReport(listing, path: model, sizeBytes: size))
          }
        }
        let network: Model
        do {
          network = try ModelOpener.open(url)
        } catch let error as ONNXError {
          switch error {
          case .unsupportedOps, .unsupportedOpset:
            return try show(
              GraphListingReport(try ONNXGraphListing.read(contentsOf: url), path: model, sizeBytes: size))
          default: throw error
          }
        }
        let report = ModelReport(network, path: model, sizeBytes: size)
        if json {
          try printJSON(report)
        } else {
          print(report.table())
          if format == .onnx { print("\n" + report.graph()) }
        }
      }
    }

    private func show<Report: Encodable & CustomStringConvertible>(_ report: Report) throws {
      if json { try printJSON(report) } else { print(report) }
    }
  }
}

/// What `inspect` shows about a model, as rows and as JSON.
struct ModelReport: Encodable {
  struct LayerRow: Encodable {
    var name: String
    var op: String
    var inputs: [String]
    var outputShape: [Int]
    var parameters: Int
    var bytes: Int
    var nonzeros: Int
    var sparsity: Double
    var dtype: String
    var bits: Double
    var kernel: String
  }
  /// Which of inspect's three reports this is: "model", "graph" or "tensors".
  var kind = "model"
  var path: String
  var architecture: String
  var inputShape: [Int]
  /// Axes of `inputShape` whose size is open; the shapes below use its example size there.
  var symbolicAxes: [Int]
  var extraInputs: [ModelInput]
  var extraOutputs: [String]
  var parameters: Int
  var nonzeros: Int
  var sizeBytes: Int
  var layers: [LayerRow]
  var metadata: [String: String]

  init(_ model: Model, path: String, sizeBytes: Int) {
    let shapes = model.outputShapes()
    layers = model.nodes.map { node in
      let stats = node.layer.statistics
      return LayerRow(
        name: node.name, op: node.layer.op, inputs: node.inputs, outputShape: shapes[node.name] ?? [],
        parameters: stats.parameters, bytes: stats.storedBytes, nonzeros: stats.nonzeros,
        sparsity: stats.parameters == 0 ? 0 : 1 - Double(stats.nonzeros) / Double(stats.parameters),
        dtype: stats.storage, bits: stats.bitsPerParameter, kernel: node.layer.kernelName)
    }
    self.path = path
    architecture = model.architecture
    inputShape = model.inputShape
    symbolicAxes = model.symbolicAxes
    extraInputs = model.extraInputs
    extraOutputs = model.extraOutputs
    parameters = layers.reduce(0) { $0 + $1.parameters }
    nonzeros = layers.reduce(0) { $0 + $1.nonzeros }
    self.sizeBytes = sizeBytes
    metadata = model.metadata
  }

  /// "input [3, 48, 320*]", or every input by name for a model of several, then its outputs.
  var inputsDescription: String {
    let open = Set(symbolicAxes)
    let first = inputShape.enumerated().map { open.contains($0.offset) ? "\($0.element)*" : "\($0.element)" }
    var text = "input [" + first.joined(separator: ", ") + "]"
    for input in extraInputs {
      let dims = zip(input.shape, input.exampleShape).map { $0 < 0 ? "\($1)*" : "\($0)" }
      text += ", \(input.name) [" + dims.joined(separator: ", ") + "] \(input.elementType)"
    }
    if !extraOutputs.isEmpty { text += "; \(extraOutputs.count + 1) outputs" }
    return text
  }

  /// The graph as a list of nodes: what each reads (with shapes) and what it produces.
  func graph() -> String {
    var shapes = ["input": [1] + inputShape]
    for layer in layers { shapes[layer.name] = layer.outputShape }
    func shaped(_ name: String) -> String {
      "\(name)[" + (shapes[name] ?? []).map(String.init).joined(separator: ",") + "]"
    }
    return
      (["graph:"]
      + layers.map { l in "  \(l.name) = \(l.op)(\(l.inputs.map(shaped).joined(separator: ", "))) -> \(shaped(l.name))"
      })
      .joined(separator: "\n")
  }

  func table() -> String {
    let header = ["layer", "op", "output", "params", "bytes", "sparsity", "storage", "bits", "kernel"]
    var rows = layers.map { l in
      [
        l.name, l.op, "[" + l.outputShape.map(String.init).joined(separator: ",") + "]",
        l.parameters == 0 ? "-" : "\(l.parameters)",
        l.bytes == 0 ? "-" : "\(l.bytes)", l.parameters == 0 ? "-" : String(format: "%.1f%%", l.sparsity * 100),
        l.dtype, l.parameters == 0 ? "-" : String(format: "%.2f", l.bits), l.kernel,
      ]
    }
    let totalBytes = layers.reduce(0) { $0 + $1.bytes }
    rows.append([
      "total", "", "", "\(parameters)", "\(totalBytes)",
      parameters == 0 ? "-" : String(format: "%.1f%%", Double(parameters - nonzeros) / Double(parameters) * 100), "",
      parameters == 0 ? "-" : String(format: "%.2f", Double(totalBytes * 8) / Double(parameters)), "",
    ])
    let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { i, c in
        (i >= 3 && i <= 5) || i == 7
          ? String(repeating: " ", count: widths[i] - c.count) + c
          : c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
      }
      .joined(separator: "  ")
    }
    var out = ["\(path): \(architecture), \(inputsDescription), \(sizeBytes) bytes on disk"]
    if !symbolicAxes.isEmpty || extraInputs.contains(where: { $0.shape.contains(-1) }) {
      out.append("(* a size the model leaves open; shapes below use the example size shown)")
    }
    out.append(line(header))
    out.append(widths.map { String(repeating: "─", count: $0) }.joined(separator: "  "))
    out += rows.dropLast().map(line)
    out.append(widths.map { String(repeating: "─", count: $0) }.joined(separator: "  "))
    out.append(line(rows.last!))
    if !metadata.isEmpty {
      out.append("")
      out += metadata.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
    }
    return out.joined(separator: "\n")
  }
}
