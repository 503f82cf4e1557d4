import Foundation
import LatheTensor

extension ONNXConverters {
  /// `If`. A condition known at load time (a constant, or one folded from fixed sizes) inlines
  /// the branch it picks, so the model is as if the file had no `If`. A condition computed at
  /// run time imports both branches as their own node lists (`ONNXBranches`) and adds one
  /// `ONNXIf` layer per output, with the output shapes of the then-branch. A branch that does
  /// not import at the probe sizes while the other does (it holds only for some sizes of a
  /// symbolic dimension) is imported when a run first picks it (`ONNXDeferredBranch`), and the
  /// outputs take the other branch's shapes.
  static func conditional(_ n: NodeConversion) throws(NodeError) {
    let condition = try n.required(0, "cond")
    guard let thenGraph = n.attributes.attribute("then_branch")?.g,
      let elseGraph = n.attributes.attribute("else_branch")?.g
    else { throw NodeError("needs then_branch and else_branch graphs") }
    if let c = condition.constant {
      guard c.count == 1 else { throw NodeError("cond has \(c.count) values; it is a single boolean") }
      let outputs = try n.importer.inline(c.ints[0] != 0 ? thenGraph : elseGraph)
      guard outputs.count == n.node.output.count else {
        throw NodeError("the branch has \(outputs.count) outputs; the node \(n.node.output.count)")
      }
      for (k, ref) in outputs.enumerated() { n.define(k, ref) }
      return
    }
    let graphs = [(thenGraph, "then"), (elseGraph, "else")]
    var imported: [ImportedBranch?] = [nil, nil]
    var failures: [NodeError?] = [nil, nil]
    for (k, (graph, which)) in graphs.enumerated() {
      do {
        imported[k] = try n.importer.branch(graph, name: n.name + "_" + which)
      } catch {
        failures[k] = error
      }
    }
    // The then-branch's error is the one reported when neither imports, as before deferral.
    guard let shown = imported[0] ?? imported[1] else { throw failures[0] ?? NodeError("no branch imported") }
    var branches: [ONNXBranches.Branch] = []
    var captured: [String] = []
    for (k, (graph, which)) in graphs.enumerated() {
      let count: Int
      if let branch = imported[k] {
        branches.append(.init(nodes: branch.nodes, outputs: branch.outputs.map(\.name)))
        captured += branch.captured
        count = branch.outputs.count
      } else {
        let deferred = try n.importer.deferredBranch(
          graph, name: n.name + "_" + which, which: which, failure: failures[k] ?? NodeError("did not import"),
          outputShapes: shown.outputs.map { $0.shapes[0] })
        branches.append(.init(nodes: [], outputs: [], deferred: deferred))
        captured += deferred.captured
        count = graph.output.count
      }
      guard count == n.node.output.count else {
        throw NodeError("the \(which) branch has \(count) outputs; the node \(n.node.output.count)")
      }
    }
    var unique: [String] = []
    for name in captured where !unique.contains(name) { unique.append(name) }
    let layers = ONNXBranches(then: branches[0], else: branches[1], captured: unique)
    let conditionName = n.importer.valueName(condition, hint: n.hint(0))
    for k in n.node.output.indices {
      let layer = ONNXIf(layers, output: k)
      let name = n.importer.unique(n.importer.sanitize(n.name + (k == 0 ? "" : "_\(k)")))
      if k == 0 { layers.group = name }
      n.importer.add(Node(name, layer, inputs: [conditionName] + unique))
      // The branch's output type, not the condition's: a bool or integer mark on a float output
      // would make a Div after it truncate.
      if let type = n.importer.types[shown.outputs[k].name] { n.importer.types[name] = type }
      n.define(k, .runtime(name, shown.outputs[k].shapes))
    }
  }
}

extension GraphImporter {
  /// A subgraph's nodes converted into this graph (its outputs, as references), for an `If`
  /// whose condition is known at load time.
  func inline(_ graph: Onnx_GraphProto) throws(NodeError) -> [ValueRef] {
    for tensor in graph.initializer {
      do {
        values[tensor.name] = .constant(try decoder.decode(tensor))
      } catch {
        throw NodeError("subgraph initializer \"\(tensor.name)\": \(error.reason)")
      }
    }
    for input in graph.node.flatMap(\.input) where !input.isEmpty { consumers[input, default: 0] += 1 }
    let (node, op) = (currentNode, currentOp)
    defer { (currentNode, currentOp) = (node, op) }
    for (index, subnode) in graph.node.enumerated() {
      currentNode = node + "/" + GraphImporter.displayName(subnode, index: index)
      currentOp = subnode.opType
      do {
        try ONNXConverters.convert(NodeConversion(node: subnode, importer: self))
      } catch {
        throw NodeError("in node \"\(currentNode)\" (\(currentOp)): \(error.reason)")
      }
      recordTypes(subnode)
    }
    var outputs: [ValueRef] = []
    for output in graph.output {
      guard let ref = values[output.name] else {
        throw NodeError("subgraph output \"\(output.name)\" is produced by no node")
      }
      outputs.append(ref)
    }
    return outputs
  }

  /// A subgraph imported as its own list of nodes: what it computes at run time, the values of
  /// this graph it reads (captured), and its outputs with their probed shapes.
  func branch(_ graph: Onnx_GraphProto, name: String) throws(NodeError) -> (
    nodes: [Node], captured: [String], outputs: [(name: String, shapes: [[Int]])]
  ) {
    // The branch's nodes, and the constant nodes it materializes, are its own: the enclosing
    // graph must not read a constant node that only a branch holds.
    let (savedNodes, savedIndex, savedMaterialized) = (nodes, nodeIndex, materialized)
    nodes = []
    nodeIndex = [:]
    defer { (nodes, nodeIndex, materialized) = (savedNodes, savedIndex, savedMaterialized) }
    let outputs = try inline(graph)
    var resolved: [(name: String, shapes: [[Int]])] = []
    for (k, ref) in outputs.enumerated() {
      switch ref {
      case .runtime(let value, let shapes): resolved.append((value, shapes))
      case .constant(let c):
        let constant = unique(sanitize("\(name)_output\(k)"))
        add(Node(constant, ONNXConstantLayer(c.floats), inputs: []))
        if !ONNXConstant.floatingTypes.contains(c.elementType) { types[constant] = c.elementType }
        resolved.append((constant, Array(repeating: c.shape, count: passes)))
      }
    }
    let produced = Set(nodes.map(\.name))
    var captured: [String] = []
    for input in nodes.flatMap(\.inputs) + resolved.map(\.name)
    where !produced.contains(input) && !captured.contains(input) {
      captured.append(input)
    }
    return (nodes, captured, resolved)
  }
}
