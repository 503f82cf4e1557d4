import Foundation
import LatheCompress
import LatheIO
import LatheTensor
import SwiftProtobuf

/// Writes Lathe models as ONNX (opset 13; 14 or 21 when a layer needs it) that ONNX Runtime runs: fp32 layers as their ONNX
/// operators, pruned layers with their zeros (or smaller shapes after structured pruning),
/// sparse and codebook layers decoded to dense fp32, and int8 layers as QDQ: DequantizeLinear of
/// int8 weights with per-channel scales (axis 0) and Quantize/DequantizeLinear around
/// activations, the form ONNX Runtime fuses into its int8 kernels.
public enum ONNXExporter {
  /// The opset written unless a layer needs a later one (see `LayerExport.minimumOpset`).
  public static let opsetVersion = 13
  public static let irVersion: Int64 = 7

  public static func proto(_ model: Model) throws(ONNXError) -> Onnx_ModelProto {
    let opsetVersion = model.nodes.map { LayerExport.minimumOpset($0.layer) }.max() ?? Self.opsetVersion
    let builder = GraphBuilder(opset: opsetVersion)
    builder.reserve("input")
    builder.reserve("output")
    var names: [String: String] = ["input": "input"]
    // Inputs after the first (a BERT's attention_mask) keep their names; their open sizes
    // (-1) stay open.
    for extra in model.extraInputs {
      builder.reserve(extra.name)
      names[extra.name] = extra.name
    }
    for node in model.nodes { builder.reserve(node.name) }
    // Shapes choose between forms: a fully connected layer is Gemm on matrices only.
    var shapes = model.outputShapes()
    shapes["input"] = [1] + model.inputShape
    for extra in model.extraInputs { shapes[extra.name] = extra.exampleShape }
    for (index, node) in model.nodes.enumerated() {
      let last = index == model.nodes.count - 1
      let inputs = node.inputs.map { names[$0]! }
      let output = last ? "output" : node.name
      try LayerExport(
        builder: builder, node: node, inputs: inputs, output: output, inputShapes: node.inputs.map { shapes[$0] }
      ).export()
      names[node.name] = output
    }
    var graph = Onnx_GraphProto()
    graph.name = model.architecture
    graph.node = builder.nodes
    graph.initializer = builder.initializers
    // Sizes the model leaves open (a sentence's length) stay open in the file, named by axis.
    let open = Set(model.symbolicAxes)
    let inputDims = model.inputShape.enumerated().map { open.contains($0) ? "size\($0 + 1)" : String($1) }
    graph.input =
      [valueInfo("input", ["batch"] + inputDims)]
      + model.extraInputs.map { extra in
        valueInfo(
          extra.name,
          extra.shape.enumerated().map { axis, size in
            axis == extra.batchAxis ? "batch" : size < 0 ? "size\(axis)" : String(size)
          })
      }
    let outputShape = shapes[model.nodes.last!.name] ?? []
    var outputDims = outputShape.dropFirst().map { String($0) }
    // A language model's logits follow the input's length.
    if model.isLanguageModel, outputDims.count == 2 { outputDims[0] = inputDims[0] }
    graph.output = [valueInfo("output", ["batch"] + outputDims)]
    var proto = Onnx_ModelProto()
    proto.irVersion = irVersion
    proto.producerName = "lathe"
    proto.producerVersion = LatheVersion.string
    proto.graph = graph
    var opset = Onnx_OperatorSetIdProto()
    opset.domain = ""
    opset.version = Int64(opsetVersion)
    proto.opsetImport = [opset]
    proto.metadataProps = model.metadata.sorted { $0.key < $1.key }.map { key, value in
      var entry = Onnx_StringStringEntryProto()
      entry.key = key
      entry.value = value
      return entry
    }
    return proto
  }

  public static func data(_ model: Model) throws(ONNXError) -> Data {
    do {
      return try proto(model).serializedData()
    } catch let error as ONNXError {
      throw error
    } catch {
      throw .unexportable(node: "model", op: "-", reason: "protobuf encoding failed: \(error)")
    }
  }

  /// Writes through `AtomicFile`: a crash or a full disk leaves no partial export.
  public static func save(_ model: Model, to url: URL) throws(ONNXError) {
    let bytes = try data(model)
    do {
      try AtomicFile.write(bytes, to: url)
    } catch {
      if case .unwritable(let file, let reason) = error { throw .unwritable(file: file, reason: reason) }
      throw .unwritable(file: url.path, reason: error.description)
    }
  }

  static func valueInfo(_ name: String, _ dims: [String]) -> Onnx_ValueInfoProto {
    var info = Onnx_ValueInfoProto()
    info.name = name
    var type = Onnx_TypeProto.Tensor()
    type.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
    var shape = Onnx_TensorShapeProto()
    shape.dim = dims.map { d in
      var dim = Onnx_TensorShapeProto.Dimension()
      if let v = Int64(d) { dim.dimValue = v } else { dim.dimParam = d }
      return dim
    }
    type.shape = shape
    info.type.tensorType = type
    return info
  }
}
