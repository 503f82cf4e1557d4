import Foundation
import LatheTensor

/// How model files hold the subgraphs of `If`, `Loop` and `Scan`.
///
/// Each output of such a node is its own layer, and they share one subgraph object
/// (`ONNXBranches`, `ONNXLoopBody`). In a file the layer of the first output (the owner) holds
/// it: its spec has the subgraph's nodes as JSON (`branches` or `body`, written as the model's
/// own nodes are) and its tensors are the subgraph nodes' own, named below the owner's node
/// ("if_0.then.conv.weight"). Every layer's spec names the owner's node (`group`); while a file
/// is read, the owner registers the subgraph it built under that name (`SharedLayerState`) and
/// the other outputs' layers (before or after it in the graph) are linked to the same object
/// once the node list is built. So the file holds each weight
/// once and the loaded model runs each subgraph once per pass, as the imported one does.
///
/// An `If` branch imported only when a run picks it (`ONNXDeferredBranch`) is an ONNX graph
/// and the importer's state, not nodes: a model holding one cannot be saved, and saving says so.
enum ONNXSubgraphFile {
  /// A branch or a body as its spec holds it.
  struct Nodes: Codable {
    var nodes: [ModelDescription.NodeDescription]
    var outputs: [String]
  }

  struct Branches: Codable {
    var then: Nodes
    var `else`: Nodes
    var captured: [String]
  }

  struct Body: Codable {
    var kind: ONNXLoopBody.Kind
    var nodes: [ModelDescription.NodeDescription]
    var inputs: [String]
    var outputs: [String]
    var captured: [String]
    var carried: Int
    var sliceShapes: [[Int]]

    enum CodingKeys: String, CodingKey {
      case kind, nodes, inputs, outputs, captured, carried
      case sliceShapes = "slice_shapes"
    }
  }

  // ---- Writing ------------------------------------------------------------------------------

  static func spec(of layer: ONNXIf) -> LayerSpec {
    let branches = layer.branches
    var attributes: [String: AttributeValue] = ["output": .int(layer.output), "group": .string(branches.group)]
    if layer.output == branches.owner, branches.thenBranch.deferred == nil, branches.elseBranch.deferred == nil {
      let description = Branches(
        then: Nodes(nodes: NodeList.describe(branches.thenBranch.nodes), outputs: branches.thenBranch.outputs),
        else: Nodes(nodes: NodeList.describe(branches.elseBranch.nodes), outputs: branches.elseBranch.outputs),
        captured: branches.captured)
      attributes["branches"] = .string(json(description))
    }
    return LayerSpec(op: "onnx.If", attributes: attributes)
  }

  static func spec(of layer: ONNXLoop) -> LayerSpec {
    let body = layer.body
    var op = "onnx.Loop"
    if case .scan = body.kind { op = "onnx.Scan" }
    if case .batchedScan = body.kind { op = "onnx.Scan" }
    var attributes: [String: AttributeValue] = ["output": .int(layer.output), "group": .string(body.group)]
    if layer.output == body.owner {
      let description = Body(
        kind: body.kind, nodes: NodeList.describe(body.nodes), inputs: body.bodyInputs, outputs: body.bodyOutputs,
        captured: body.captured, carried: body.carried, sliceShapes: body.sliceShapes)
      attributes["body"] = .string(json(description))
    }
    return LayerSpec(op: op, attributes: attributes)
  }

  private static func json<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // Plain data (names, numbers, nested specs whose floats are finite or spelled as strings):
    // encoding cannot fail.
    return String(decoding: try! encoder.encode(value), as: UTF8.self)
  }

  // ---- Reading ------------------------------------------------------------------------------

  /// An `If` layer from its spec: the owner builds the branches, the others take the owner's.
  static func makeIf(_ spec: LayerSpec) throws(ModelError) -> Layer {
    let (output, group) = (try spec.int("output"), try spec.string("group", default: ""))
    let key = "onnx.If " + group
    if case .string(let text) = spec.attributes["branches"] {
      let description = try decode(Branches.self, text, spec: spec, key: "branches")
      let builders = SharedLayerState.current?.builders ?? ONNXLayers.builders
      let then = try NodeList.make(description.then.nodes, builders: builders)
      let otherwise = try NodeList.make(description.else.nodes, builders: builders)
      let branches = ONNXBranches(
        then: .init(nodes: then, outputs: description.then.outputs),
        else: .init(nodes: otherwise, outputs: description.else.outputs), captured: description.captured)
      (branches.group, branches.owner) = (group, output)
      SharedLayerState.current?.register(branches, key: key)
      return ONNXIf(branches, output: output)
    }
    // Another output's layer holds the branches; it may come later in the list.
    let layer = ONNXIf(
      ONNXBranches(then: .init(nodes: [], outputs: []), else: .init(nodes: [], outputs: []), captured: []),
      output: output)
    let missing = ModelError.badAttribute(
      op: spec.op, key: "group",
      expected: "the node of another output of the same If, which holds its branches (\"\(group)\")")
    guard let shared = SharedLayerState.current else { throw missing }
    shared.wait(for: key, missing: missing) { if let branches = $0 as? ONNXBranches { layer.branches = branches } }
    return layer
  }

  /// A `Loop` or `Scan` layer from its spec, as `makeIf`.
  static func makeLoop(_ spec: LayerSpec) throws(ModelError) -> Layer {
    let (output, group) = (try spec.int("output"), try spec.string("group", default: ""))
    let key = spec.op + " " + group
    if case .string(let text) = spec.attributes["body"] {
      let d = try decode(Body.self, text, spec: spec, key: "body")
      let nodes = try NodeList.make(d.nodes, builders: SharedLayerState.current?.builders ?? ONNXLayers.builders)
      let body = ONNXLoopBody(
        kind: d.kind, nodes: nodes, bodyInputs: d.inputs, bodyOutputs: d.outputs, captured: d.captured,
        carried: d.carried, sliceShapes: d.sliceShapes)
      (body.group, body.owner) = (group, output)
      SharedLayerState.current?.register(body, key: key)
      return ONNXLoop(body, output: output)
    }
    let missing = ModelError.badAttribute(
      op: spec.op, key: "group",
      expected: "the node of another output of the same node, which holds its body (\"\(group)\")")
    guard let shared = SharedLayerState.current else { throw missing }
    let layer = ONNXLoop(
      ONNXLoopBody(
        kind: .loop(hasTripCount: false, hasCondition: false), nodes: [], bodyInputs: [], bodyOutputs: [], captured: [],
        carried: 0, sliceShapes: []), output: output)
    shared.wait(for: key, missing: missing) { if let body = $0 as? ONNXLoopBody { layer.body = body } }
    return layer
  }

  private static func decode<T: Decodable>(_ type: T.Type, _ text: String, spec: LayerSpec, key: String)
    throws(ModelError) -> T
  {
    do {
      return try JSONDecoder().decode(type, from: Data(text.utf8))
    } catch {
      throw .badAttribute(op: spec.op, key: key, expected: "a subgraph description (JSON that decodes: \(error))")
    }
  }

  // ---- Tensors ------------------------------------------------------------------------------

  /// Restores the subgraph's nodes from the owner's tensors (local names with the subgraph's
  /// prefixes); a layer that does not own its subgraph takes no tensors.
  static func restore(
    _ parts: [(prefix: String, nodes: [Node])], owns: Bool, from tensors: [String: AnyTensor], node: String
  ) throws(ModelError) -> [[Node]] {
    guard owns else {
      if let extra = tensors.keys.sorted().first { throw .unexpectedParameter("\(node).\(extra)") }
      return parts.map(\.nodes)
    }
    // Left over: names under no part's prefix, and those under one that no node of it took.
    var unused = Set(tensors.keys.filter { name in !parts.contains { name.hasPrefix($0.prefix) } })
    var restored: [[Node]] = []
    for part in parts {
      let (nodes, left) = try NodeList.restore(part.nodes, from: tensors, prefix: part.prefix, owner: node + ".")
      unused.formUnion(left)
      restored.append(nodes)
    }
    if let extra = unused.sorted().first { throw .unexpectedParameter("\(node).\(extra)") }
    return restored
  }
}

extension ONNXIf: SometimesUnsavable {
  public var unsavableReason: String? {
    for (which, branch) in [("then", branches.thenBranch), ("else", branches.elseBranch)] {
      if let deferred = branch.deferred {
        return "its \(which) branch did not import at load (\(deferred.reason)) and is imported when a run picks "
          + "it; a Lathe model file holds imported nodes only: keep the .onnx file"
      }
      if let inner = NodeList.firstUnsavable(branch.nodes) {
        return "\(which) branch node \(inner.node): \(inner.reason)"
      }
    }
    return nil
  }

  public var storedTensors: [(name: String, tensor: AnyTensor)] {
    guard output == branches.owner else { return [] }
    return NodeList.storedTensors(branches.thenBranch.nodes, prefix: "then.")
      + NodeList.storedTensors(branches.elseBranch.nodes, prefix: "else.")
  }

  public func restore(from tensors: [String: AnyTensor], node: String) throws(ModelError) {
    let restored = try ONNXSubgraphFile.restore(
      [("then.", branches.thenBranch.nodes), ("else.", branches.elseBranch.nodes)], owns: output == branches.owner,
      from: tensors, node: node)
    branches.thenBranch.nodes = restored[0]
    branches.elseBranch.nodes = restored[1]
  }
}

extension ONNXLoop: SometimesUnsavable {
  public var unsavableReason: String? {
    NodeList.firstUnsavable(body.nodes).map { "body node \($0.node): \($0.reason)" }
  }

  public var storedTensors: [(name: String, tensor: AnyTensor)] {
    output == body.owner ? NodeList.storedTensors(body.nodes, prefix: "body.") : []
  }

  public func restore(from tensors: [String: AnyTensor], node: String) throws(ModelError) {
    body.nodes = try ONNXSubgraphFile.restore(
      [("body.", body.nodes)], owns: output == body.owner, from: tensors, node: node)[0]
  }
}
