import Foundation
import LatheTensor
import SwiftProtobuf

/// Choices for reading an ONNX file.
public struct ONNXImportOptions: Sendable {
  /// Shapes to use for graph inputs instead of the file's (fills in symbolic dimensions).
  public var inputShapes: [String: [Int]]
  /// Graph inputs bound to fixed values, folded like initializers. The backend-test runner binds
  /// integer-typed inputs (indices, shapes) this way, since the engine computes in fp32.
  var boundInputs: [String: ONNXConstant] = [:]

  /// Keep only the graph's floating-point outputs (and the nodes they need) when it also has
  /// others. Classifiers exported by skl2onnx, for one, return an int64 label next to the
  /// probabilities, computed by ArgMax and ai.onnx.ml operators the engine does not run; a Lathe
  /// model needs the scores only. Off for backend tests, which check every output.
  public var floatingOutputsOnly: Bool

  public init(inputShapes: [String: [Int]] = [:], floatingOutputsOnly: Bool = false) {
    self.inputShapes = inputShapes
    self.floatingOutputsOnly = floatingOutputsOnly
  }
}

/// Reads ONNX files onto the engine: decodes the protobuf, checks opsets and operators (listing
/// every unsupported one), folds constant subgraphs, and converts each node into Lathe layers.
public enum ONNXImporter {
  /// The ai.onnx opset versions whose operator semantics the converters implement: 6 (PyTorch's
  /// older exports, with the legacy broadcast attribute) to 21, and 22 to 28, in which the
  /// implemented operators change only by new element types (bfloat16, float8, float6, int2)
  /// and attributes that only those types use (Cast's round_mode, QuantizeLinear's saturate).
  /// Later opsets are refused: what they change is unknown here.
  public static let supportedOpsets = 6...28

  public static func load(contentsOf url: URL, options: ONNXImportOptions = .init()) throws(ONNXError) -> ONNXGraph {
    try load(contentsOf: url, options: options, plan: ProbePlan())
  }

  private static func load(contentsOf url: URL, options: ONNXImportOptions, plan: ProbePlan) throws(ONNXError)
    -> ONNXGraph
  {
    // Initializers are decoded one at a time straight from the mapped file, whose pages are
    // dropped as they are read: the weights are held about once, not twice (StreamedModelFile).
    let file = try StreamedModelFile(path: url.path)
    var decoder = TensorDecoder(directory: url.deletingLastPathComponent())
    decoder.bytesRead = { [unowned file] in file.release($0.baseAddress!, length: $0.count) }
    let (importer, proto) = try prepare(
      file.model, path: url.path, decoder: decoder, options: options, plan: plan)
    for index in file.initializers.indices { try importer.decodeInitializer(file.initializer(index)) }
    do {
      return try importer.importGraph(proto)
    } catch {
      guard let next = importer.nextPlan else { throw error }
      do {
        return try load(contentsOf: url, options: options, plan: next)
      } catch _ {
        throw error
      }
    }
  }

  private static func decode(_ data: Data, path: String) throws(ONNXError) -> Onnx_ModelProto {
    do {
      return try Onnx_ModelProto(serializedBytes: data)
    } catch {
      throw .unreadable(file: path, reason: "not a protobuf-encoded ONNX model (truncated or malformed: \(error))")
    }
  }

  /// Loads an ONNX model held in memory; `directory` resolves external data files.
  public static func load(
    data: Data, path: String = "model.onnx", directory: URL? = nil, options: ONNXImportOptions = .init()
  ) throws(ONNXError) -> ONNXGraph {
    try load(decode(data, path: path), path: path, directory: directory, options: options)
  }

  private static func load(
    _ decoded: Onnx_ModelProto, path: String, directory: URL?, options: ONNXImportOptions, plan: ProbePlan = .init()
  ) throws(ONNXError) -> ONNXGraph {
    var (importer, proto) = try prepare(
      decoded, path: path, decoder: TensorDecoder(directory: directory), options: options, plan: plan)
    // Initializers are decoded from the message, which stays whole: a retry decodes them again.
    proto.graph.initializer = []
    for tensor in decoded.graph.initializer { try importer.decodeInitializer(tensor) }
    do {
      return try importer.importGraph(proto)
    } catch {
      // The first error is the one to report: other probes only matter if they import.
      guard let next = importer.nextPlan else { throw error }
      do {
        return try load(decoded, path: path, directory: directory, options: options, plan: next)
      } catch _ {
        throw error
      }
    }
  }

  /// Checks the model's header, opsets and operators, and returns the importer for its graph
  /// with the graph to import (cut down to the floating-point outputs when the options ask).
  private static func prepare(
    _ decoded: Onnx_ModelProto, path: String, decoder: TensorDecoder, options: ONNXImportOptions, plan: ProbePlan
  ) throws(ONNXError) -> (GraphImporter, Onnx_ModelProto) {
    var proto = decoded
    guard proto.irVersion > 0, proto.hasGraph else {
      throw .invalidModel(file: path, reason: "no ir_version or no graph (is this an ONNX file?)")
    }
    if options.floatingOutputsOnly { proto.graph = floatingOutputsOnly(proto.graph) }
    let opset = try checkOpsets(proto, path: path)
    try checkOperators(proto.graph, path: path)
    return (GraphImporter(file: path, decoder: decoder, opset: opset, options: options, plan: plan), proto)
  }

  /// The graph with only its floating-point outputs and the nodes they depend on, when it has
  /// both floating-point and other outputs; otherwise unchanged.
  static func floatingOutputsOnly(_ graph: Onnx_GraphProto) -> Onnx_GraphProto {
    let floating: Set<Int32> = [1, 10, 11, 16]  // FLOAT, FLOAT16, DOUBLE, BFLOAT16
    let kept = graph.output.filter { floating.contains($0.type.tensorType.elemType) }
    guard !kept.isEmpty, kept.count < graph.output.count else { return graph }
    var needed = Set(kept.map(\.name))
    var nodes: [Onnx_NodeProto] = []
    for node in graph.node.reversed() where node.output.contains(where: needed.contains) {
      nodes.append(node)
      needed.formUnion(node.input)
    }
    var result = graph
    result.output = kept
    result.node = nodes.reversed()
    return result
  }

  private static func checkOpsets(_ proto: Onnx_ModelProto, path: String) throws(ONNXError) -> Int {
    var version = 0
    for entry in proto.opsetImport {
      switch entry.domain {
      case "", "ai.onnx":
        version = Int(clamping: entry.version)
        guard supportedOpsets.contains(version) else {
          throw .unsupportedOpset(file: path, domain: entry.domain, version: version, supported: supportedOpsets)
        }
      default:
        // Other domains (ai.onnx.ml, com.microsoft) only matter if a node uses them; such
        // nodes are reported as unsupported operators.
        continue
      }
    }
    if proto.opsetImport.isEmpty { version = 7 }  // IR 2 files predate opset_import.
    // A graph of ai.onnx.ml operators alone (scikit-learn's) needs no ai.onnx opset: any will do.
    if version == 0, proto.opsetImport.contains(where: { $0.domain == ONNXConverters.mlDomain }) {
      version = supportedOpsets.upperBound
    }
    guard version > 0 else {
      throw .invalidModel(file: path, reason: "the model imports no ai.onnx opset")
    }
    return version
  }

  private static func checkOperators(_ graph: Onnx_GraphProto, path: String) throws(ONNXError) {
    var unsupported: [(op: String, nodes: [String])] = []
    for (i, node) in graph.node.enumerated() {
      guard !ONNXConverters.converts(node) else { continue }
      let op = ONNXConverters.qualifiedOp(node)
      let name = GraphImporter.displayName(node, index: i)
      if let k = unsupported.firstIndex(where: { $0.op == op }) {
        unsupported[k].nodes.append(name)
      } else {
        unsupported.append((op, [name]))
      }
    }
    if !unsupported.isEmpty { throw .unsupportedOps(file: path, ops: unsupported) }
  }
}

/// A value while the graph is converted: known at load time, or computed by a node at run time
/// (with its shape in the shape-probing passes, one per batch size tried).
enum ValueRef {
  case constant(ONNXConstant)
  case runtime(String, [[Int]])

  var constant: ONNXConstant? {
    if case .constant(let c) = self { return c }
    return nil
  }
}

/// Converts one graph. Shapes are found by each new layer's shape rules, without running it:
/// once with symbolic dimensions set to 1 and, when the file has any, once more with them set
/// to 2, so a folded `Shape` can tell the batch size (which differs between the passes) from
/// fixed sizes.
final class GraphImporter {
  let file: String
  let decoder: TensorDecoder
  let opset: Int
  let options: ONNXImportOptions
  var values: [String: ValueRef] = [:]
  var nodes: [Node] = []
  var nodeIndex: [String: Int] = [:]
  var usedNames: Set<String> = ["input"]
  var consumers: [String: Int] = [:]
  var graphOutputs: Set<String> = []
  var materialized: [String: String] = [:]
  /// Values that blocked DequantizeLinear nodes made from int4/int8 levels, by name.
  var blockQuantized: [String: BlockQuantizedWeight] = [:]
  /// Values folded from a DequantizeLinear of 8-bit levels, by name, and the Linear and Conv2d
  /// nodes made from them (by node name): what `fuseQDQ` may run as int8 layers.
  var int8Weights: [String: Int8WeightOrigin] = [:]
  var int8Candidates: [String: Int8WeightOrigin] = [:]
  /// Nodes of a DequantizeLinear of one DynamicQuantizeLinear's outputs (its product and its
  /// zero-point shift), each with the value that was quantized.
  var dynamicallyQuantized: [String: String] = [:]
  var passes = 1
  /// Element types of run-time values that are not floating point (shapes, indices, masks),
  /// by value name: they travel as exact fp32 values, and integer division or a cast to an
  /// integer type must still round as ONNX says.
  var types: [String: Onnx_TensorProto.DataType] = [:]
  /// The values of small run-time tensors in each probing pass: shapes computed at run time
  /// (from a `Shape` of a symbolic size) and what is computed from them, so a `Reshape` or
  /// `Slice` they feed can be given its output shape at load time.
  var probes: [String: [Tensor<Float>]] = [:]
  var currentNode = ""
  var currentOp = ""
  /// How this import probes symbolic sizes, and the plan to try when it fails (nil: none is
  /// left, or the graph has no symbolic sizes).
  let plan: ProbePlan
  private(set) var nextPlan: ProbePlan?

  init(file: String, decoder: TensorDecoder, opset: Int, options: ONNXImportOptions, plan: ProbePlan = .init()) {
    self.file = file
    self.decoder = decoder
    self.opset = opset
    self.options = options
    self.plan = plan
  }

  static func displayName(_ node: Onnx_NodeProto, index: Int) -> String {
    if !node.name.isEmpty { return node.name }
    if let output = node.output.first, !output.isEmpty { return output }
    return "\(node.opType)_\(index)"
  }

  func decodeInitializer(_ tensor: Onnx_TensorProto) throws(ONNXError) {
    do {
      values[tensor.name] = .constant(try decoder.decode(tensor))
    } catch {
      throw .invalidModel(file: file, reason: "initializer \"\(tensor.name)\": \(error.reason)")
    }
  }

  func importGraph(_ proto: Onnx_ModelProto) throws(ONNXError) -> ONNXGraph {
    let graph = proto.graph
    for (name, constant) in options.boundInputs { values[name] = .constant(constant) }
    let feeds = graph.input.filter { values[$0.name] == nil }
    var inputs: [ONNXGraph.Input] = []
    var shapes: [[Int]] = []
    for (i, input) in feeds.enumerated() {
      let shape = try inputShape(input)
      let value = i == 0 ? "input" : unique("input_" + sanitize(input.name))
      inputs.append(
        ONNXGraph.Input(
          name: input.name, value: value, shape: shape, example: shape,
          elementType: elementType(input).name.lowercased()))
      shapes.append(shape)
      if !ONNXConstant.floatingTypes.contains(elementType(input)) { types[value] = elementType(input) }
    }
    passes = shapes.contains { $0.contains(-1) } ? 2 : 1
    let probes = SymbolicDimensions(
      feeds.map { $0.type.tensorType.shape }, shapes: shapes,
      sizeProbes: SymbolicDimensions.sizeProbeSets[plan.sizeSet],
      batchGuess: plan.batchGuess)
    nextPlan = probes.plan(after: plan)
    for (k, (input, shape)) in zip(inputs, shapes).enumerated() {
      let probed = (0..<passes).map { probes.shape(of: k, shape, pass: $0) }
      values[input.name] = .runtime(input.value, probed)
      inputs[k].example = probed[0]
      inputs[k].batchAxis = probes.batchAxis(of: k)
    }
    for node in graph.node {
      for input in node.input where !input.isEmpty { consumers[input, default: 0] += 1 }
    }
    graphOutputs = Set(graph.output.map(\.name))
    try checkOutputsAreProduced(graph)
    let reads = graph.node.map(GraphImporter.reads)
    var readersLeft: [String: Int] = [:]
    for names in reads { for name in names { readersLeft[name, default: 0] += 1 } }
    for (index, node) in graph.node.enumerated() {
      currentNode = GraphImporter.displayName(node, index: index)
      currentOp = node.opType
      do {
        let first = nodes.count
        try GradientRecording.disabled { try ONNXConverters.convert(NodeConversion(node: node, importer: self)) }
        noteInt8Weight(of: node, addedFrom: first)
        recordTypes(node)
        // A constant no node left reads is dropped: the converters copied what they keep (a
        // MatMul weight transposed into a Linear), and the import would otherwise hold both.
        for name in reads[index] {
          readersLeft[name]! -= 1
          if readersLeft[name] == 0, !graphOutputs.contains(name), values[name]?.constant != nil { values[name] = nil }
        }
      } catch let error as NodeError {
        throw .invalidNode(file: file, node: currentNode, op: currentOp, reason: error.reason)
      } catch {
        throw .invalidNode(file: file, node: currentNode, op: currentOp, reason: "\(error)")
      }
    }
    var outputs: [(name: String, value: String)] = []
    for output in graph.output {
      guard let ref = values[output.name] else {
        throw .invalidModel(file: file, reason: "output \"\(output.name)\" is produced by no node")
      }
      switch ref {
      case .runtime(let name, _): outputs.append((output.name, name))
      case .constant(let c):
        let name = unique(sanitize(output.name))
        add(Node(name, ONNXConstantLayer(c.floats), inputs: []))
        outputs.append((output.name, name))
      }
    }
    fuseQDQ(outputs: &outputs)
    var metadata = Dictionary(proto.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    metadata["onnx.file"] = file
    return ONNXGraph(
      inputs: inputs, outputs: outputs, nodes: nodes, opsetVersion: opset, producer: proto.producerName,
      metadata: metadata)
  }

  /// The values `node` reads: its inputs, and those its subgraphs (Loop, Scan, If bodies) take
  /// from the graph around them.
  static func reads(_ node: Onnx_NodeProto) -> Set<String> {
    var names = Set(node.input.filter { !$0.isEmpty })
    for attribute in node.attribute {
      for subgraph in attribute.hasG ? [attribute.g] : attribute.graphs { names.formUnion(outerNames(subgraph)) }
    }
    return names
  }

  /// The element type of a graph input or output as the file declares it (float when unset).
  func elementType(_ value: Onnx_ValueInfoProto) -> Onnx_TensorProto.DataType {
    Onnx_TensorProto.DataType(rawValue: Int(value.type.tensorType.elemType)) ?? .float
  }

  /// The element type of a reference: a constant's own, a run-time value's as recorded.
  func elementType(_ ref: ValueRef) -> Onnx_TensorProto.DataType {
    switch ref {
    case .constant(let c): return c.elementType
    case .runtime(let name, _): return types[name] ?? .float
    }
  }

  /// Records the element type of the run-time values `node` defined: integers for shapes and
  /// indices, bool for comparisons, the target of a cast, else the type of the first input.
  func recordTypes(_ node: Onnx_NodeProto) {
    let integerOps: Set<String> = ["Shape", "Size", "NonZero", "ArgMax", "ArgMin"]
    let booleanOps: Set<String> = [
      "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Not", "And", "Or", "Xor", "IsNaN", "IsInf",
    ]
    // A Loop's, Scan's or If's converter gives each output its body's or branch's type; the
    // first input (a trip count, a state, the boolean condition) says nothing about them.
    if node.opType == "Loop" || node.opType == "Scan" || node.opType == "If" { return }
    for (k, output) in node.output.enumerated() {
      guard case .runtime(let name, _) = values[output], types[name] == nil else { continue }
      let type: Onnx_TensorProto.DataType
      if integerOps.contains(node.opType) || (node.opType == "TopK" && k == 1) {
        type = .int64
      } else if booleanOps.contains(node.opType) {
        type = .bool
      } else if node.opType == "Cast", let to = ONNXAttributes(node).attribute("to") {
        type = Onnx_TensorProto.DataType(rawValue: Int(to.i)) ?? .float
      } else if node.opType == "CastLike", node.input.count > 1, let like = values[node.input[1]] {
        type = elementType(like)
      } else if node.opType == "Where", node.input.count > 1, let x = values[node.input[1]] {
        type = elementType(x)
      } else if let first = node.input.first, let x = values[first] {
        type = elementType(x)
      } else {
        type = .float
      }
      if !ONNXConstant.floatingTypes.contains(type) { types[name] = type }
    }
  }

  /// Every graph output must be a graph input, an initializer or some node's output. Checked
  /// before any node is converted, so the error is the first one a user sees.
  func checkOutputsAreProduced(_ graph: Onnx_GraphProto) throws(ONNXError) {
    var known = Set(values.keys)
    for node in graph.node { known.formUnion(node.output) }
    for output in graph.output where !known.contains(output.name) {
      throw .invalidModel(file: file, reason: "output \"\(output.name)\" is produced by no node")
    }
  }

  /// The shape a graph input is probed with: the caller's, or the file's with symbolic
  /// dimensions as -1. Probes are allocated from it, so it is checked first: dimensions that
  /// are negative or multiply past `ShapeRules.maximumElements` (for a batch of two) are refused.
  func inputShape(_ input: Onnx_ValueInfoProto) throws(ONNXError) -> [Int] {
    var shape: [Int] = []
    for dim in input.type.tensorType.shape.dim {
      guard case .dimValue(let v) = dim.value else {
        shape.append(-1)
        continue
      }
      // Some exporters (Paddle's) write -1 for a dimension they mean as symbolic.
      if v == -1 {
        shape.append(-1)
        continue
      }
      guard let d = Int(exactly: v), d >= 0 else {
        throw .invalidModel(file: file, reason: "input \"\(input.name)\": dimension \(v) should be 0 or more")
      }
      shape.append(d)
    }
    if let given = options.inputShapes[input.name] { shape = given }
    guard shape.allSatisfy({ $0 >= -1 }), ONNXShapes.product(shape.map { $0 < 0 ? 2 : $0 }) != nil else {
      throw .invalidModel(
        file: file,
        reason: "input \"\(input.name)\": shape \(shape) should have dimensions of 0 or more (-1: symbolic) "
          + "holding at most \(ShapeRules.maximumElements) values")
    }
    return shape
  }

  /// Node names double as parameter prefixes ("conv1.weight"), so dots and slashes go.
  func sanitize(_ name: String) -> String {
    let cleaned = String(name.map { $0 == "." || $0 == "/" || $0 == ":" || $0 == " " ? "_" : $0 })
    let trimmed = cleaned.drop { $0 == "_" }
    return trimmed.isEmpty ? "node" : String(trimmed)
  }

  func unique(_ base: String) -> String {
    var name = base
    var k = 2
    while usedNames.contains(name) {
      name = "\(base)_\(k)"
      k += 1
    }
    usedNames.insert(name)
    return name
  }

  func add(_ node: Node) {
    nodeIndex[node.name] = nodes.count
    nodes.append(node)
  }

  /// The shapes of a reference, one per pass (constants are the same in every pass).
  func shapes(_ ref: ValueRef) -> [[Int]] {
    switch ref {
    case .runtime(_, let shapes): return shapes
    case .constant(let c): return Array(repeating: c.shape, count: passes)
    }
  }

  /// The name nodes read a reference by; constants become `onnx.Constant` nodes on first use.
  func valueName(_ ref: ValueRef, hint: String) -> String {
    switch ref {
    case .runtime(let name, _): return name
    case .constant(let c):
      // One node per named initializer; constants made up during conversion get their own.
      let named = values[hint]?.constant != nil
      if named, let name = materialized[hint] { return name }
      let name = unique(sanitize(hint))
      add(Node(name, ONNXConstantLayer(c.floats), inputs: []))
      if named { materialized[hint] = name }
      return name
    }
  }

  /// Adds `layer` reading `inputs`, or folds it when every input is a constant. The layer's
  /// shape rules give its output shape in every probing pass, before anything is allocated:
  /// kernels trust shapes, so a layer that cannot run on what it gets is an error here, not a
  /// trap, and a large fixed batch costs nothing to import.
  func emit(_ layer: Layer, _ inputs: [(ref: ValueRef, hint: String)], name: String) throws(NodeError) -> ValueRef {
    if !inputs.isEmpty, inputs.allSatisfy({ $0.ref.constant != nil }) {
      let values = inputs.compactMap { $0.ref.constant?.floats }
      try GraphImporter.checkShapes(layer, values.map(\.shape))
      var context = ForwardContext.inference
      return .constant(ONNXConstant(layer.forward(values.map { Variable($0) }, context: &context).value))
    }
    if let computed = try probeValues(layer, inputs.map(\.ref)) {
      let names = inputs.map { valueName($0.ref, hint: $0.hint) }
      let nodeName = unique(sanitize(name))
      add(Node(nodeName, layer, inputs: names))
      probes[nodeName] = computed
      return .runtime(nodeName, computed.map(\.shape))
    }
    var outputs: [[Int]] = []
    for pass in 0..<passes {
      do {
        outputs.append(try outputShape(layer, inputs.map(\.ref), pass: pass))
      } catch  where pass > 0 {
        // Symbolic dimensions are 1 in the first pass and 2 in this one: say so, or the
        // shapes in the message look like none the file holds.
        throw NodeError("\(error.reason) (with symbolic dimensions such as the batch set to \(pass + 1))")
      }
    }
    let names = inputs.map { valueName($0.ref, hint: $0.hint) }
    let nodeName = unique(sanitize(name))
    add(Node(nodeName, layer, inputs: names))
    return .runtime(nodeName, outputs)
  }

  /// The shape `layer` outputs for `inputs` in probing pass `pass`: by its shape rules, or, for
  /// a layer without them, by running it on zeros (constants as they are).
  func outputShape(_ layer: Layer, _ inputs: [ValueRef], pass: Int) throws(NodeError) -> [Int] {
    let shapes = inputs.map { self.shapes($0)[pass] }
    if let shape = try GraphImporter.checkShapes(layer, shapes) { return shape }
    var context = ForwardContext.inference
    let values = zip(inputs, shapes).map { ref, shape in Variable(probe(ref, pass: pass) ?? .zeros(shape)) }
    try GraphImporter.checkValues(layer, values.map(\.value))
    return layer.forward(values, context: &context).shape
  }

  /// A reference's value in probing pass `pass`, where it is known: a constant's, or a small
  /// run-time value's recorded probe.
  func probe(_ ref: ValueRef, pass: Int) -> Tensor<Float>? {
    switch ref {
    case .constant(let c): return c.floats
    case .runtime(let name, _): return probes[name]?[pass]
    }
  }

  /// The values `layer` computes in each pass when every input's value is known there (shape
  /// arithmetic at run time) and the inputs are small; nil otherwise.
  func probeValues(_ layer: Layer, _ inputs: [ValueRef]) throws(NodeError) -> [Tensor<Float>]? {
    if let shape = layer as? ONNXShapeDependentOp, case .shapeOf(let start, let end) = shape.kind, let x = inputs.first
    {
      return shapes(x).map { dims in
        let part = ONNXShapeDependentOp.part(dims, start: start, end: end)
        return Tensor(shape: [part.count], scalars: part.map { Float($0) })
      }
    }
    guard
      inputs.contains(where: { if case .runtime(let name, _) = $0 { return probes[name] != nil } else { return false } }
      )
    else { return nil }
    var results: [Tensor<Float>] = []
    for pass in 0..<passes {
      var values: [Variable] = []
      for ref in inputs {
        guard let value = probe(ref, pass: pass), value.count <= 4096 else { return nil }
        values.append(Variable(value))
      }
      try GraphImporter.checkShapes(layer, values.map(\.shape))
      try GraphImporter.checkValues(layer, values.map(\.value))
      var context = ForwardContext.inference
      let output = layer.forward(values, context: &context).value
      guard output.count <= 4096 else { return nil }
      results.append(output)
    }
    return results
  }

  /// Runs `layer`'s shape rules on inputs of `shapes`, the output's size included, and returns
  /// the output's shape; nil for a layer without rules, which only running it can tell.
  @discardableResult
  static func checkShapes(_ layer: Layer, _ shapes: [[Int]]) throws(NodeError) -> [Int]? {
    guard let rules = layer as? ShapeChecking else { return nil }
    do {
      let shape = try rules.outputShape(for: shapes)
      try ShapeRules.elements(shape)
      return shape
    } catch {
      throw NodeError("\(layer.op) \(error.reason)")
    }
  }

  /// Checks a layer whose output shape depends on its inputs' values against those values.
  static func checkValues(_ layer: Layer, _ values: [Tensor<Float>]) throws(NodeError) {
    guard let dependent = layer as? ONNXShapeDependentOp else { return }
    do {
      try dependent.check(values)
    } catch {
      throw NodeError(error.reason)
    }
  }

  /// Replaces the layer of an already emitted node (a MatMul's Linear taking the next Add's bias).
  func replaceLayer(of name: String, with layer: Layer) {
    guard let index = nodeIndex[name] else { return }
    nodes[index].layer = layer
  }

  func layer(named name: String) -> Layer? { nodeIndex[name].map { nodes[$0].layer } }
}
