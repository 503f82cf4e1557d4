import LatheONNX

/// What `inspect` shows of an ONNX graph Lathe cannot import (operators it lacks, an opset
/// outside its range): every node with its inputs and outputs, shapes where the file gives
/// them, the nodes that cannot run marked, and a one-line note of what cannot run.
struct GraphListingReport: Encodable, CustomStringConvertible {
  struct NodeRow: Encodable {
    var name: String
    var op: String
    var inputs: [String]
    var outputs: [String]
    var runnable: Bool
  }
  struct Value: Encodable {
    var shape: [ONNXGraphListing.Dimension]?
    var elementType: String?
  }
  var kind = "graph"
  var format = "onnx"
  var path: String
  var sizeBytes: Int
  var irVersion: Int
  var opset: Int?
  var opsetSupported: Bool
  var producer: String
  var inputs: [String]
  var outputs: [String]
  var initializers: Int
  var nodes: [NodeRow]
  /// Nodes per operator that cannot run.
  var unsupported: [String: Int]
  var runnable: Bool
  var note: String
  /// Every named value whose shape or element type the file gives.
  var values: [String: Value]
  var metadata: [String: String]

  init(_ listing: ONNXGraphListing, path: String, sizeBytes: Int) {
    self.path = path
    self.sizeBytes = sizeBytes
    irVersion = listing.irVersion
    opset = listing.opset
    opsetSupported = listing.opsetSupported
    producer = listing.producer
    inputs = listing.inputs
    outputs = listing.outputs
    initializers = listing.initializers
    nodes = listing.nodes.map {
      NodeRow(name: $0.name, op: $0.op, inputs: $0.inputs, outputs: $0.outputs, runnable: $0.runnable)
    }
    let ops = listing.unsupported
    unsupported = Dictionary(ops.map { ($0.op, $0.count) }, uniquingKeysWith: +)
    runnable = ops.isEmpty && opsetSupported
    var notes: [String] = []
    if !ops.isEmpty {
      let count = ops.reduce(0) { $0 + $1.count }
      notes.append(
        "\(count) of \(nodes.count) nodes cannot run in Lathe: "
          + ops.map { "\($0.op) (\($0.count))" }.joined(separator: ", "))
    }
    if !opsetSupported {
      let range = ONNXImporter.supportedOpsets
      notes.append(
        "opset \(opset.map(String.init) ?? "none") is not supported (supported: \(range.lowerBound) to \(range.upperBound))"
      )
    }
    note = notes.joined(separator: "; ")
    var values: [String: Value] = [:]
    for name in Set(listing.shapes.keys).union(listing.elementTypes.keys) {
      values[name] = Value(shape: listing.shapes[name], elementType: listing.elementTypes[name])
    }
    self.values = values
    metadata = listing.metadata
  }

  /// A value with its shape when the file gives one: `x[1,3,?]`.
  private func shaped(_ name: String) -> String {
    guard !name.isEmpty else { return "-" }  // an optional input left out
    return name + (values[name]?.shape.map(shapeText) ?? "")
  }

  var description: String {
    let opsetText = opset.map { "opset \($0)" } ?? "no ai.onnx opset"
    let by = producer.isEmpty ? "" : ", from \(producer)"
    var out = [
      "\(path): ONNX graph, \(opsetText)\(by), \(nodes.count) nodes, \(initializers) initializers, "
        + "\(sizeBytes) bytes on disk"
    ]
    out.append("inputs: " + inputs.map(shaped).joined(separator: ", "))
    out.append("outputs: " + outputs.map(shaped).joined(separator: ", "))
    out.append("")
    let rows = nodes.map { node in
      [
        node.runnable ? "" : "✗", node.name, node.op,
        node.inputs.map(shaped).joined(separator: ", ") + " → " + node.outputs.map(shaped).joined(separator: ", "),
      ]
    }
    out += TextTable(header: ["", "node", "op", "inputs → outputs"], rows: rows).lines()
    out.append("")
    out.append(note.isEmpty ? "every node can run in Lathe" : note)
    if !metadata.isEmpty {
      out.append("")
      out += metadata.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
    }
    return out.joined(separator: "\n")
  }
}
