import Foundation
import LatheIO
import LatheTensor

/// Writes a `Model`'s weights as a GGUF file (llama.cpp's format) with ggml's block
/// quantizations, and Lathe's own dequantization of every tensor as a reference.
///
/// Every parameter is written. A compressed layer (int8, sparse, weight-only) contributes its
/// dense `effectiveWeight` as "weight" and its stored float tensors (the bias); what encodes the
/// weight or the inputs' quantization ("weight_scale", "input_scale") is left out, since the
/// file holds the weight itself. The graph is not written: llama.cpp rebuilds it from
/// `general.architecture` and the tensor names, which a `GGUFNameMap` supplies.
public enum GGUFExport {
  /// A tensor written in another type than the one asked for, and why.
  public struct Fallback: Sendable, Equatable, CustomStringConvertible {
    public var tensor: String
    public var requested: GGMLType
    public var written: GGMLType
    public var reason: String
    public var description: String { "\(tensor): \(written) instead of \(requested) (\(reason))" }
  }

  public struct Output: Sendable {
    public var metadata: [(key: String, value: GGUFValue)]
    public var tensors: [GGUFTensor]
    public var fallbacks: [Fallback]
    /// Each tensor as the file's bytes decode (row-major shape, F32), by GGUF name: what a
    /// reader of the file must get back.
    public var reference: [String: NumpyArray]
  }

  public static func write(_ model: Model, to url: URL, options: GGUFExportOptions) throws -> Output {
    let output = try convert(model, options: options)
    try GGUFWriter.write(metadata: output.metadata, tensors: output.tensors, to: url)
    return output
  }

  public static func convert(_ model: Model, options: GGUFExportOptions) throws -> Output {
    guard GGMLType.codable.contains(options.type) else {
      throw LatheIOError.unencodable(
        what: "a GGUF file of \(options.type)",
        reason: "Lathe writes \(GGMLType.codable.map(\.description).joined(separator: ", "))")
    }
    var tensors: [GGUFTensor] = []
    var fallbacks: [Fallback] = []
    var reference: [String: NumpyArray] = [:]
    var sources: [String: String] = [:]
    for (latheName, value) in try floatTensors(of: model) {
      let name = options.names(latheName)
      if let other = sources[name] {
        throw LatheIOError.unencodable(
          what: "tensor \"\(OneLine.escaping(name))\"", reason: "both \(other) and \(latheName) are named so")
      }
      sources[name] = latheName
      guard value.withUnsafeBufferPointer({ $0.allSatisfy(\.isFinite) }) else {
        throw LatheIOError.unencodable(what: "tensor \(latheName)", reason: "it holds a value that is not finite")
      }
      let (type, fallback) = choose(options.type, shape: value.shape)
      if let fallback {
        fallbacks.append(Fallback(tensor: name, requested: options.type, written: type, reason: fallback))
      }
      let values = value.withUnsafeBufferPointer { Array($0) }
      // A scalar is written as one element of one dimension.
      let shape = value.shape.isEmpty ? [1] : value.shape
      let tensor = try GGUFTensor(name: name, shape: shape, values: values, type: type)
      tensors.append(tensor)
      reference[name] = NumpyArray(
        shape: shape, values: GGMLCodec.decode(tensor.data, as: type, count: values.count))
    }
    var metadata: [(key: String, value: GGUFValue)] = [
      ("general.architecture", .string(options.architecture ?? model.architecture)),
      ("general.name", .string(options.name)),
      ("general.file_type", .uint32(GGUFExportOptions.fileType(options.type))),
      ("general.quantization_version", .uint32(2)),
    ]
    for entry in options.metadata {
      if let i = metadata.firstIndex(where: { $0.key == entry.key }) {
        metadata[i] = entry
      } else {
        metadata.append(entry)
      }
    }
    return Output(metadata: metadata, tensors: tensors, fallbacks: fallbacks, reference: reference)
  }

  /// The type a tensor of `shape` is written in when `requested` is asked for, and why it
  /// differs: rank 1 stays F32; a quantized type needs rows of whole blocks, or falls back to
  /// Q8_0 (rows of 32) and then to F32.
  static func choose(_ requested: GGMLType, shape: [Int]) -> (GGMLType, String?) {
    guard shape.count >= 2 else { return (.f32, nil) }
    if requested == .f32 || requested == .f16 { return (requested, nil) }
    let inner = shape.last!
    if inner % requested.blockSize == 0 { return (requested, nil) }
    let reason = "its rows of \(inner) are not a multiple of \(requested.blockSize)"
    if inner % GGMLType.q80.blockSize == 0 { return (.q80, reason) }
    return (.f32, reason)
  }

  /// Every float tensor the model computes with, by Lathe name, in node order.
  static func floatTensors(of model: Model) throws -> [(name: String, value: Tensor<Float>)] {
    var result: [(name: String, value: Tensor<Float>)] = []
    for node in model.nodes {
      let layer = node.layer
      var local = layer.parameters.map { (name: $0.name, value: $0.parameter.value) }
      if !local.contains(where: { $0.name == "weight" }), let weight = layer.effectiveWeight {
        local.insert((name: "weight", value: weight), at: 0)
      }
      for stored in layer.storedTensors where !local.contains(where: { $0.name == stored.name }) {
        // Parts of an encoded weight, or of the inputs' quantization: the weight itself is written.
        if stored.name.hasPrefix("weight") || stored.name.hasPrefix("input_") { continue }
        guard let value = stored.tensor.float32 else {
          throw LatheIOError.unencodable(
            what: "\(node.name).\(stored.name)",
            reason: "a \(layer.spec.op) layer stores it as \(stored.tensor.dtype.rawValue), which has no float form")
        }
        local.append((name: stored.name, value: value))
      }
      result += local.map { (name: "\(node.name).\($0.name)", value: $0.value) }
    }
    return result
  }
}
