import Foundation
import LatheTensor

/// An ONNX model imported onto the engine: Lathe layers wired as the file's graph, with the
/// file's input and output names. `model()` gives the single-input, single-output `Model` that
/// training, compression and the CLI work on; `run` executes graphs of any arity (backend tests).
public final class ONNXGraph {
  /// A graph input the caller feeds: its ONNX name, the value name nodes read it by, and its
  /// shape (-1 where the file leaves a dimension symbolic).
  public struct Input: Sendable {
    public var name: String
    public var value: String
    public var shape: [Int]
    /// The shape the importer probed first: a batch of one, example sizes for other symbols.
    public var example: [Int]
    /// The element type the file declares.
    public var elementType: String
    /// The axis that is the batch (a symbol that is some input's first axis), if any.
    public var batchAxis: Int?
  }

  public let inputs: [Input]
  /// ONNX output names and the value (node name, or an input's value name) each one reads.
  public let outputs: [(name: String, value: String)]
  public let nodes: [Node]
  /// The version of the default (ai.onnx) opset the file imports.
  public let opsetVersion: Int
  public let producer: String
  public let metadata: [String: String]

  init(
    inputs: [Input], outputs: [(name: String, value: String)], nodes: [Node], opsetVersion: Int, producer: String,
    metadata: [String: String]
  ) {
    self.inputs = inputs
    self.outputs = outputs
    self.nodes = nodes
    self.opsetVersion = opsetVersion
    self.producer = producer
    self.metadata = metadata
    plan = RunPlan(inputs: inputs.map(\.value), nodes: nodes, outputs: outputs.map(\.value))
  }

  /// Where each value lives in a run's value list, resolved once: a run does no name lookups
  /// and builds no dictionaries, which is most of the time of a small recurrent model.
  private struct RunPlan {
    /// For each node, the slots of its inputs (the graph's inputs first, then one per node).
    var inputSlots: [[Int]] = []
    /// For each node, the slots it reads last that no output keeps: dropped after it runs.
    var released: [[Int]] = []
    var outputSlots: [Int] = []
    var slotCount = 0

    init(inputs: [String], nodes: [Node], outputs: [String]) {
      var slot: [String: Int] = [:]
      for (k, name) in inputs.enumerated() { slot[name] = k }
      for (i, node) in nodes.enumerated() { slot[node.name] = inputs.count + i }
      slotCount = inputs.count + nodes.count
      inputSlots = nodes.map { $0.inputs.map { slot[$0] ?? -1 } }
      outputSlots = outputs.map { slot[$0] ?? -1 }
      var lastReader = [Int](repeating: -1, count: slotCount)
      for (i, reads) in inputSlots.enumerated() { for s in reads where s >= 0 { lastReader[s] = i } }
      let kept = Set(outputSlots)
      released = inputSlots.enumerated().map { i, reads in
        Array(Set(reads.filter { $0 >= 0 && lastReader[$0] == i && !kept.contains($0) }))
      }
    }
  }
  private let plan: RunPlan

  /// Why feeds of `shapes` do not fit the inputs (a rank, or a fixed size, differs); nil when
  /// they fit. Symbolic sizes (-1) take any size.
  public func mismatch(_ shapes: [[Int]]) -> String? {
    guard shapes.count == inputs.count else { return "\(shapes.count) feeds for \(inputs.count) inputs" }
    for (input, shape) in zip(inputs, shapes) {
      let fits = input.shape.count == shape.count && zip(input.shape, shape).allSatisfy { $0 < 0 || $0 == $1 }
      if !fits { return "input \"\(input.name)\" has shape \(input.shape); the feed is \(shape)" }
    }
    return nil
  }

  /// Runs the graph in evaluation mode on one tensor per input, returning one per output. A
  /// failure only the fed sizes reveal (a run-time shape that does not fit, an `If` branch that
  /// does not import for them) stops the program; `checkedRun` throws it instead.
  public func run(_ feeds: [Tensor<Float>]) -> [Tensor<Float>] {
    precondition(feeds.count == inputs.count, "the graph has \(inputs.count) inputs, got \(feeds.count)")
    return GradientRecording.disabled {
      var values = [Variable?](repeating: nil, count: plan.slotCount)
      for (k, feed) in feeds.enumerated() { values[k] = Variable(feed) }
      var context = ForwardContext.inference
      let failures = RunFailure.log
      // A value is dropped after its last reader: peak memory is the live activations.
      for (i, node) in nodes.enumerated() {
        let out = node.layer.forward(plan.inputSlots[i].map { values[$0]! }, context: &context)
        if let failures, failures.hasFailed {
          // Inside `checkedRun`: the pass stops here and the caller throws.
          failures.name(node: node.name)
          return plan.outputSlots.map { _ in out.value }
        }
        values[inputs.count + i] = out
        for slot in plan.released[i] { values[slot] = nil }
      }
      return plan.outputSlots.map { values[$0]!.value }
    }
  }

  /// `run`, throwing the first failure a layer records while the graph runs, naming the file,
  /// the node and why.
  public func checkedRun(_ feeds: [Tensor<Float>]) throws(ONNXError) -> [Tensor<Float>] {
    guard feeds.count == inputs.count else {
      throw .invalidModel(file: file, reason: "the graph has \(inputs.count) inputs, got \(feeds.count) feeds")
    }
    do {
      return try RunFailure.checking(file: file) { run(feeds) }
    } catch {
      throw .runFailed(error)
    }
  }

  /// The file the graph was imported from, for messages.
  var file: String { metadata["onnx.file"] ?? "model" }

  /// The graph as a `Model`: the first input's first axis is the batch, and its other symbolic
  /// sizes stay open (`symbolicAxes`); further inputs and outputs become the model's extra
  /// ones. Nodes no output depends on are dropped and the first output's node comes last, as
  /// `Model` requires.
  public func model(architecture: String = "onnx") throws(ONNXError) -> Model {
    guard let first = inputs.first, let output = outputs.first?.value else {
      throw .invalidModel(file: file, reason: "the graph has no input or no output")
    }
    var byName: [String: Node] = [:]
    for node in nodes { byName[node.name] = node }
    var ordered: [Node] = []
    var visited: Set<String> = []
    // Iterative post-order from the outputs, the first one last: every node after its inputs.
    var stack: [(String, Bool)] = [(output, false)] + outputs.dropFirst().reversed().map { ($0.value, false) }
    while let (name, expanded) = stack.popLast() {
      guard let node = byName[name] else { continue }
      if expanded {
        ordered.append(node)
        continue
      }
      guard visited.insert(name).inserted else { continue }
      stack.append((name, true))
      for input in node.inputs.reversed() where !visited.contains(input) { stack.append((input, false)) }
    }
    var extraOutputs: [String] = []
    for (k, out) in outputs.enumerated().dropFirst() {
      if byName[out.value] != nil {
        extraOutputs.append(out.value)
      } else {
        // An output that is a graph input as it is: an identity node names it.
        let name = out.value + "_output\(k)"
        ordered.append(Node(name, ONNXOp(.identity), inputs: [out.value]))
        extraOutputs.append(name)
      }
    }
    if ordered.isEmpty || ordered.last?.name != output {
      ordered.append(Node(output == "input" ? "output" : output + "_output", ONNXOp(.identity), inputs: [output]))
    }
    let extraInputs = inputs.dropFirst().map {
      ModelInput(
        name: $0.value, shape: $0.shape, exampleShape: $0.example, elementType: $0.elementType, sourceName: $0.name,
        batchAxis: $0.batchAxis)
    }
    var metadata = self.metadata
    metadata["onnx.input-name"] = first.name
    metadata["onnx.producer"] = producer
    metadata["onnx.opset"] = String(opsetVersion)
    if first.elementType != "float" { metadata["onnx.input-type"] = first.elementType }
    do {
      let model = try Model(
        architecture: architecture, inputShape: Array(first.example.dropFirst()), classCount: 0, nodes: ordered,
        metadata: metadata, extraInputs: extraInputs)
      model.symbolicAxes = first.shape.dropFirst().enumerated().filter { $0.element < 0 }.map(\.offset)
      model.extraOutputs = extraOutputs
      // The shape rules give the output's shape without running the model; only a model with
      // a layer that has none is run (on a batch of one) to find it.
      let output = ordered.last?.name ?? ""
      let shapes = try model.checkShapes()
      guard let shape = shapes[output] else {
        // An `If` branch imported at run time that cannot run on the example makes this an
        // error here rather than a stop in whatever runs the model next (`inspect`).
        let shapes: [String: [Int]]
        do {
          shapes = try RunFailure.checking { model.outputShapes() }
        } catch {
          var failure = error
          failure.file = nil  // the message names the file once, in front
          throw ExampleRunFailure(reason: "the example inputs cannot run: \(failure.description)")
        }
        model.classCount = shapes[output]?.last ?? 0
        return model
      }
      model.classCount = shape.last ?? 0
      return model
    } catch let failure as ExampleRunFailure {
      throw .invalidModel(file: file, reason: failure.reason)
    } catch {
      throw .invalidModel(file: file, reason: "\(error)")
    }
  }
}

/// Why `ONNXGraph.model()` could not run its example inputs through the graph.
private struct ExampleRunFailure: Error {
  var reason: String
}
