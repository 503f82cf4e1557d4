import Foundation
import LatheTensor

/// A subgraph imported as its own list of nodes (what `GraphImporter.branch` returns).
typealias ImportedBranch = (nodes: [Node], captured: [String], outputs: [(name: String, shapes: [[Int]])])

/// A branch of a run-time `If` that does not import at the importer's probe sizes, imported
/// when it is first chosen, at the shapes of the values it then reads.
///
/// A branch may hold only for some sizes of a symbolic dimension: silero-vad's 8 kHz network
/// squeezes the encoder's time axis when it is 1 (`If(Equal(Shape(x)[2], 1))`), and a layer
/// after it takes the squeezed rank only. The probe sizes (320, 384) are made up, so at them
/// such a branch can fail where the sizes a model is fed do not. Each set of captured shapes
/// is imported once (one probing pass, every size fixed, so a `Shape` it reads folds) and
/// kept: later runs of those shapes reuse it. A failure then is the branch's own: it is
/// recorded as a `RunFailure` naming the file, the node and why, which a checked run
/// (`ONNXGraph.checkedRun`, `Model.checkedPredict`) throws and an unchecked one stops on.
final class ONNXDeferredBranch: @unchecked Sendable {
  /// What the branch reads of the enclosing graph, as the importer held it when it met the
  /// `If`, by ONNX name: constants as they are, run-time values by the name they are read by.
  struct Scope {
    var values: [String: ValueRef] = [:]
    var types: [String: Onnx_TensorProto.DataType] = [:]
    /// Run-time values that carried their probe values at load (shapes computed at run time):
    /// the import gets their actual values, so a Reshape or Slice they feed has its shape.
    var probed: Set<String> = []
    var consumers: [String: Int] = [:]
    var graphOutputs: Set<String> = []
    var blockQuantized: [String: BlockQuantizedWeight] = [:]
  }

  let graph: Onnx_GraphProto
  /// The prefix of the branch's node names ("If_0_else").
  let name: String
  /// The `If` node as messages name it, with the nodes it sits in ("If_0/.../If_1").
  let node: String
  let which: String
  let file: String
  let directory: URL?
  let opset: Int
  let options: ONNXImportOptions
  let scope: Scope
  /// The enclosing graph's run-time values the branch reads, by value name: what the `If`
  /// layers take after the condition, and what a branch is imported for (their shapes).
  let captured: [String]
  /// Why the branch did not import at the probe sizes.
  let reason: String
  /// The `If` outputs' shapes at load (the other branch's, first probing pass).
  let placeholderShapes: [[Int]]
  private var imported: [[[Int]]: ONNXBranches.Branch] = [:]

  init(
    graph: Onnx_GraphProto, name: String, node: String, which: String, importer: GraphImporter, scope: Scope,
    reason: String, placeholderShapes: [[Int]]
  ) {
    self.graph = graph
    self.name = name
    self.node = node
    self.which = which
    self.file = importer.file
    self.directory = importer.decoder.directory
    self.opset = importer.opset
    self.options = importer.options
    self.scope = scope
    self.reason = reason
    self.placeholderShapes = placeholderShapes
    var captured: [String] = []
    for case .runtime(let value, _) in scope.values.values where !captured.contains(value) { captured.append(value) }
    self.captured = captured.sorted()
  }

  /// The branch as imported for the captured values `values` (by value name), importing it
  /// first when no run has had their shapes. The caller holds `ONNXBranches`' lock.
  func branch(for values: [String: Variable]) -> ONNXBranches.Branch {
    let shapes = captured.map { values[$0]!.shape }
    if let branch = imported[shapes] { return branch }
    do {
      let branch = try importBranch(values)
      imported[shapes] = branch
      return branch
    } catch {
      let message =
        "its \(which) branch did not import at the probe sizes (\(reason)), "
        + "and does not import for the values it reads now (shapes \(shapes)) either: \(error.reason)"
      // Outside a checked run this stops the program; inside one the placeholders below stand
      // in until the runner stops the pass after this `If`.
      RunFailure.record("If", message, node: node, file: file)
      return ONNXBranches.Branch(
        nodes: placeholderShapes.enumerated().map { k, shape in
          Node("\(name)_placeholder\(k)", ONNXConstantLayer(.zeros(shape)), inputs: [])
        }, outputs: placeholderShapes.indices.map { "\(name)_placeholder\($0)" })
    }
  }

  private func importBranch(_ values: [String: Variable]) throws(NodeError) -> ONNXBranches.Branch {
    let importer = GraphImporter(
      file: file, decoder: TensorDecoder(directory: directory), opset: opset, options: options)
    importer.passes = 1
    importer.usedNames.formUnion(captured)
    for (onnxName, ref) in scope.values {
      guard case .runtime(let value, _) = ref else {
        importer.values[onnxName] = ref
        continue
      }
      let x = values[value]!.value
      importer.values[onnxName] = .runtime(value, [x.shape])
      if scope.probed.contains(value), x.count <= 4096 { importer.probes[value] = [x] }
    }
    importer.types = scope.types
    importer.consumers = scope.consumers
    importer.graphOutputs = scope.graphOutputs
    importer.blockQuantized = scope.blockQuantized
    importer.currentNode = node
    importer.currentOp = "If"
    var result: ImportedBranch?
    var failure: NodeError?
    // The import folds constants by running layers; none of that belongs to a backward pass.
    GradientRecording.disabled {
      do throws(NodeError) {
        result = try importer.branch(graph, name: name)
      } catch {
        failure = error
      }
    }
    if let failure { throw failure }
    guard let result else { throw NodeError("the branch did not import") }
    for value in result.captured where !captured.contains(value) {
      throw NodeError("the branch reads \"\(value)\", which the If does not take")
    }
    return ONNXBranches.Branch(nodes: result.nodes, outputs: result.outputs.map(\.name))
  }

  /// A copy whose branches, imported or to come, are its own: layers a run has imported are
  /// copied with what training changed in them.
  func copy() -> ONNXDeferredBranch {
    let copy = ONNXDeferredBranch(
      graph: graph, name: name, node: node, which: which, file: file, directory: directory, opset: opset,
      options: options, scope: scope, captured: captured, reason: reason, placeholderShapes: placeholderShapes)
    copy.imported = imported.mapValues { $0.copied() }
    return copy
  }

  private init(
    graph: Onnx_GraphProto, name: String, node: String, which: String, file: String, directory: URL?, opset: Int,
    options: ONNXImportOptions, scope: Scope, captured: [String], reason: String, placeholderShapes: [[Int]]
  ) {
    self.graph = graph
    self.name = name
    self.node = node
    self.which = which
    self.file = file
    self.directory = directory
    self.opset = opset
    self.options = options
    self.scope = scope
    self.captured = captured
    self.reason = reason
    self.placeholderShapes = placeholderShapes
  }
}

extension GraphImporter {
  /// `graph`, a branch of a run-time `If` that failed to import with `failure`, kept to import
  /// at run time; or `failure` again where waiting cannot help: the graph's shapes are all
  /// fixed (one probing pass), or the branch holds an operator Lathe does not run.
  func deferredBranch(
    _ graph: Onnx_GraphProto, name: String, which: String, failure: NodeError, outputShapes: [[Int]]
  ) throws(NodeError) -> ONNXDeferredBranch {
    guard passes > 1, GraphImporter.convertsAll(graph) else { throw failure }
    var scope = ONNXDeferredBranch.Scope()
    for outer in GraphImporter.outerNames(graph) {
      guard let ref = values[outer] else { throw failure }
      scope.values[outer] = ref
      scope.consumers[outer] = consumers[outer]
      if graphOutputs.contains(outer) { scope.graphOutputs.insert(outer) }
      if let weight = blockQuantized[outer] { scope.blockQuantized[outer] = weight }
      if case .runtime(let value, _) = ref {
        scope.types[value] = types[value]
        if probes[value] != nil { scope.probed.insert(value) }
      }
    }
    return ONNXDeferredBranch(
      graph: graph, name: name, node: currentNode, which: which, importer: self, scope: scope, reason: failure.reason,
      placeholderShapes: outputShapes)
  }

  /// Whether every node of `graph`, and of the graphs its nodes hold, has a converter.
  static func convertsAll(_ graph: Onnx_GraphProto) -> Bool {
    graph.node.allSatisfy { node in
      ONNXConverters.converts(node)
        && node.attribute.allSatisfy { a in (a.hasG ? [a.g] : a.graphs).allSatisfy(convertsAll) }
    }
  }

  /// The names `graph` (with the graphs its nodes hold) reads from the graphs around it: read
  /// by a node or given as an output, and defined by none of its inputs, initializers or nodes.
  static func outerNames(_ graph: Onnx_GraphProto) -> Set<String> {
    var defined = Set(graph.input.map(\.name) + graph.initializer.map(\.name))
    var outer: Set<String> = []
    for node in graph.node {
      for input in node.input where !input.isEmpty && !defined.contains(input) { outer.insert(input) }
      for attribute in node.attribute {
        for subgraph in attribute.hasG ? [attribute.g] : attribute.graphs {
          outer.formUnion(outerNames(subgraph).subtracting(defined))
        }
      }
      defined.formUnion(node.output)
    }
    for output in graph.output where !defined.contains(output.name) { outer.insert(output.name) }
    return outer
  }
}
