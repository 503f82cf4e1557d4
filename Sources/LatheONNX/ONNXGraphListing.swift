import Foundation

/// An ONNX graph as the file describes it, node by node, with the nodes Lathe cannot run marked:
/// what `inspect` shows of a file the importer refuses, the way Netron shows any graph. It is
/// read with the importer's own reader (`StreamedModelFile`), so a file that is not a protobuf
/// or has no graph fails here with the importer's message; initializers are listed by name,
/// type and dims only, their data never decoded.
public struct ONNXGraphListing: Sendable {
  /// One dimension of a shape: a number, a symbol (`batch`), or not given.
  public enum Dimension: Sendable, Equatable, Encodable, CustomStringConvertible {
    case fixed(Int64)
    case symbolic(String)
    case unknown

    public var description: String {
      switch self {
      case .fixed(let n): return "\(n)"
      case .symbolic(let name): return name
      case .unknown: return "?"
      }
    }

    /// Numbers as JSON numbers, symbols as strings, unknown as null.
    public func encode(to encoder: Encoder) throws {
      var container = encoder.singleValueContainer()
      switch self {
      case .fixed(let n): try container.encode(n)
      case .symbolic(let name): try container.encode(name)
      case .unknown: try container.encodeNil()
      }
    }
  }

  public struct Node: Sendable {
    public var name: String
    /// The operator, domain-qualified outside ai.onnx (`com.microsoft.FusedConv`).
    public var op: String
    public var inputs: [String]
    public var outputs: [String]
    /// False for operators the importer has no converter for.
    public var runnable: Bool
  }

  public var nodes: [Node]
  /// Graph inputs that no initializer feeds, and the graph outputs.
  public var inputs: [String]
  public var outputs: [String]
  public var initializers: Int
  /// Shapes where the file gives them: graph inputs and outputs, value_info, initializers.
  public var shapes: [String: [Dimension]]
  /// Element types where the file gives them, by ONNX name (`float`, `int64`).
  public var elementTypes: [String: String]
  public var irVersion: Int
  /// The ai.onnx opset the model imports (7 for IR 2 files, which predate opset_import).
  public var opset: Int?
  public var producer: String
  public var metadata: [String: String]

  /// Operators no converter handles, with how many nodes use each, in graph order.
  public var unsupported: [(op: String, count: Int)] {
    var result: [(op: String, count: Int)] = []
    for node in nodes where !node.runnable {
      if let k = result.firstIndex(where: { $0.op == node.op }) {
        result[k].count += 1
      } else {
        result.append((node.op, 1))
      }
    }
    return result
  }

  /// False when the model imports an ai.onnx opset outside `ONNXImporter.supportedOpsets`.
  public var opsetSupported: Bool { opset.map(ONNXImporter.supportedOpsets.contains) ?? false }

  public static func read(contentsOf url: URL) throws(ONNXError) -> ONNXGraphListing {
    let file = try StreamedModelFile(path: url.path)
    let model = file.model
    guard model.irVersion > 0, model.hasGraph else {
      throw .invalidModel(file: url.path, reason: "no ir_version or no graph (is this an ONNX file?)")
    }
    let graph = model.graph
    var shapes: [String: [Dimension]] = [:]
    var types: [String: String] = [:]
    for value in graph.input + graph.valueInfo + graph.output where value.type.tensorType.hasShape {
      shapes[value.name] = value.type.tensorType.shape.dim.map { dim in
        switch dim.value {
        case .dimValue(let n): return .fixed(n)
        case .dimParam(let name): return name.isEmpty ? .unknown : .symbolic(name)
        case nil: return .unknown
        }
      }
    }
    for value in graph.input + graph.valueInfo + graph.output where value.type.tensorType.elemType != 0 {
      types[value.name] = elementName(value.type.tensorType.elemType)
    }
    var initialized = Set<String>()
    for index in file.initializers.indices {
      let tensor = try file.initializer(index)
      initialized.insert(tensor.name)
      shapes[tensor.name] = tensor.dims.map { .fixed($0) }
      types[tensor.name] = elementName(tensor.dataType)
    }
    let nodes = graph.node.enumerated().map { i, node in
      Node(
        name: GraphImporter.displayName(node, index: i), op: ONNXConverters.qualifiedOp(node),
        inputs: node.input, outputs: node.output, runnable: ONNXConverters.converts(node))
    }
    let standard = model.opsetImport.filter { $0.domain.isEmpty || $0.domain == "ai.onnx" }
    return ONNXGraphListing(
      nodes: nodes, inputs: graph.input.map(\.name).filter { !initialized.contains($0) },
      outputs: graph.output.map(\.name), initializers: file.initializers.count, shapes: shapes,
      elementTypes: types, irVersion: Int(clamping: model.irVersion),
      opset: model.opsetImport.isEmpty ? 7 : standard.last.map { Int(clamping: $0.version) },
      producer: model.producerName,
      metadata: Dictionary(model.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }))
  }

  private static func elementName(_ raw: Int32) -> String {
    Onnx_TensorProto.DataType(rawValue: Int(raw)).map { "\($0)" } ?? "type \(raw)"
  }
}

extension ONNXConverters {
  /// Whether a converter handles the node: an ai.onnx operator in `supported`.
  static func converts(_ node: Onnx_NodeProto) -> Bool {
    (node.domain.isEmpty || node.domain == "ai.onnx") && supported.contains(node.opType)
      || node.domain == mlDomain && mlOps.contains(node.opType)
  }

  /// The node's operator as messages name it: domain-qualified outside ai.onnx.
  static func qualifiedOp(_ node: Onnx_NodeProto) -> String {
    node.domain.isEmpty || node.domain == "ai.onnx" ? node.opType : "\(node.domain).\(node.opType)"
  }
}
