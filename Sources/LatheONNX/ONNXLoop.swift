import Foundation
import LatheTensor

/// The body of an ONNX `Loop` or `Scan` and the loop that runs it. The body is a list of nodes
/// in execution order, as imported, reading its own inputs (`bodyInputs`, set anew on every
/// iteration) and the enclosing graph's values it captures, by name. Every output of the node
/// is its own layer (`ONNXLoop`), and they run one after another on the same inputs: the loop
/// runs once for all of them and the outputs are cached, as `ONNXBranches` does for `If`.
///
/// The body runs on the engine's `Variable`s, and slicing and stacking use differentiable
/// ops (a gather, a concatenation), so gradients flow through every iteration.
public final class ONNXLoopBody: @unchecked Sendable {
  public enum Kind: Codable, Equatable, Sendable {
    /// `Loop`: the layers take the trip count and the condition where the node has them, then
    /// the loop-carried values. Scan outputs are stacked along a new first axis.
    case loop(hasTripCount: Bool, hasCondition: Bool)
    /// `Scan`: the layers take the states, then the scan inputs, sliced along `inputAxes`
    /// (from the end where `inputReversed`); each scan output is stacked along its
    /// `outputAxes` entry (in reverse order where `outputReversed`). Axes are resolved.
    case scan(inputAxes: [Int], inputReversed: [Bool], outputAxes: [Int], outputReversed: [Bool])
    /// `Scan` before opset 9: the layers take the sequence lengths where the node has them,
    /// the states and the scan inputs, all with a batch axis first, the scan inputs' sequence
    /// axis second. The scan runs once per batch entry, over its first `sequence_lens` steps;
    /// scan outputs are padded with zeros past them.
    case batchedScan(hasLengths: Bool, inputReversed: [Bool])
  }

  public let kind: Kind
  public internal(set) var nodes: [Node]
  /// The names the body's nodes read its inputs by: for a Loop the iteration number, the
  /// condition and the loop-carried values; for a Scan the states and one slice of each scan
  /// input.
  public let bodyInputs: [String]
  /// The value each body output reads, by name: a Loop's condition first, then the carried
  /// values (or a Scan's states), then one slice of each scan output.
  public let bodyOutputs: [String]
  /// The enclosing graph's values the body reads, in the order the layers take them after
  /// the node's own inputs.
  public let captured: [String]
  /// How many values are carried from one iteration to the next (a Scan's states).
  public let carried: Int
  /// Each scan output's slice shape as probed at load: what a loop that runs no iteration
  /// stacks zero of.
  public let sliceShapes: [[Int]]
  /// How a model file ties the node's layers together, as for `If` (`ONNXBranches.group`):
  /// the first output's node name and that output (a Loop's unused outputs have no layer).
  var group = ""
  var owner = 0

  private var last: (inputs: [Variable], outputs: [Variable])?
  private let lock = NSLock()
  /// The failure log of the run in progress (`run` holds the lock), read once per run.
  private var failures: RunFailure.Log?

  init(
    kind: Kind, nodes: [Node], bodyInputs: [String], bodyOutputs: [String], captured: [String], carried: Int,
    sliceShapes: [[Int]]
  ) {
    self.kind = kind
    self.nodes = nodes
    self.bodyInputs = bodyInputs
    self.bodyOutputs = bodyOutputs
    self.captured = captured
    self.carried = carried
    self.sliceShapes = sliceShapes
  }

  /// How many inputs of the layers are the node's own (the rest are captured values).
  var ownInputs: Int {
    switch kind {
    case .loop(let trip, let condition): return (trip ? 1 : 0) + (condition ? 1 : 0) + carried
    case .scan(let axes, _, _, _): return carried + axes.count
    case .batchedScan(let hasLengths, let reversed): return (hasLengths ? 1 : 0) + carried + reversed.count
    }
  }

  /// Every output of the node (final carried values, then stacked scan outputs) for the
  /// layers' inputs: the node's own, then the captured values.
  func run(_ inputs: [Variable], context: inout ForwardContext) -> [Variable] {
    lock.lock()
    defer { lock.unlock() }
    if let last, last.inputs.count == inputs.count, zip(last.inputs, inputs).allSatisfy({ $0 === $1 }) {
      return last.outputs
    }
    failures = RunFailure.log
    defer { failures = nil }
    let own = Array(inputs[..<ownInputs])
    let enclosing = Dictionary(zip(captured, inputs[ownInputs...]), uniquingKeysWith: { a, _ in a })
    let outputs: [Variable]
    switch kind {
    case .loop(let trip, let condition):
      outputs = loop(own, hasTripCount: trip, hasCondition: condition, enclosing, context: &context)
    case .scan(let inputAxes, let inputReversed, let outputAxes, let outputReversed):
      outputs = scan(
        own, inputAxes: inputAxes, inputReversed: inputReversed, outputAxes: outputAxes,
        outputReversed: outputReversed, enclosing, context: &context)
    case .batchedScan(let hasLengths, let inputReversed):
      outputs = batchedScan(own, hasLengths: hasLengths, inputReversed: inputReversed, enclosing, context: &context)
    }
    last = (inputs, outputs)
    return outputs
  }

  /// One run of the body's nodes on `inputs` (one per body input).
  private func iteration(_ inputs: [Variable], _ enclosing: [String: Variable], context: inout ForwardContext)
    -> [Variable]
  {
    var values = enclosing
    for (name, value) in zip(bodyInputs, inputs) { values[name] = value }
    for node in nodes {
      let out = node.layer.forward(node.inputs.map { values[$0]! }, context: &context)
      if let failures, failures.hasFailed {
        // Inside `RunFailure.checking`: the loop and the runners around it stop here.
        failures.name(node: node.name)
        return bodyOutputs.map { _ in out }
      }
      values[node.name] = out
    }
    return bodyOutputs.map { values[$0]! }
  }

  /// ONNX's loop: `for i in 0..<M while cond`, either bound absent where the node leaves it
  /// out (the converter refuses a node with neither). Without a condition input the body's
  /// condition output is ignored, as the spec says.
  private func loop(
    _ own: [Variable], hasTripCount: Bool, hasCondition: Bool, _ enclosing: [String: Variable],
    context: inout ForwardContext
  ) -> [Variable] {
    // Trip counts are int64 and arrive as fp32; compared as Double, INT64_MAX (exporters'
    // "no bound") stays larger than any count reached.
    let limit = hasTripCount ? Double(own[0].value.scalars.first ?? 0) : .infinity
    let start = (hasTripCount ? 1 : 0) + (hasCondition ? 1 : 0)
    var condition = hasCondition ? (own[start - 1].value.scalars.first ?? 0) != 0 : true
    var state = Array(own[start...])
    var slices = Array(repeating: [Variable](), count: bodyOutputs.count - 1 - carried)
    var index = 0
    while condition, Double(index) < limit {
      let out = iteration(
        [Variable(Tensor(Float(index))), Variable(Tensor(condition ? 1 : 0))] + state, enclosing, context: &context)
      if failures?.hasFailed == true { return Array(out.dropFirst()) }
      if hasCondition { condition = (out[0].value.scalars.first ?? 0) != 0 }
      state = Array(out[1...carried])
      for k in slices.indices { slices[k].append(out[1 + carried + k]) }
      index += 1
    }
    return state + slices.indices.map { stack(slices[$0], axis: 0, shape: sliceShapes[$0]) }
  }

  private func scan(
    _ own: [Variable], inputAxes: [Int], inputReversed: [Bool], outputAxes: [Int], outputReversed: [Bool],
    _ enclosing: [String: Variable], context: inout ForwardContext
  ) -> [Variable] {
    var state = Array(own[..<carried])
    let sequences = Array(own[carried...])
    // The converter checked at load that the scan inputs agree on the length; a feed of other
    // sizes is checked here, where the loop could not run past the shortest.
    let lengths = zip(sequences, inputAxes).map { $0.shape[$1] }
    guard Set(lengths).count <= 1 else {
      RunFailure.record("Scan", "the scan inputs' lengths differ: \(lengths) (shapes \(sequences.map(\.shape)))")
      return Array(repeating: own[0], count: bodyOutputs.count)
    }
    let length = lengths.first ?? 0
    var slices = Array(repeating: [Variable](), count: bodyOutputs.count - carried)
    for t in 0..<length {
      let parts = sequences.indices.map { j in
        ONNXOp.gather(
          sequences[j], axis: inputAxes[j], indices: [inputReversed[j] ? length - 1 - t : t], indicesShape: [])
      }
      let out = iteration(state + parts, enclosing, context: &context)
      if failures?.hasFailed == true { return out }
      state = Array(out[..<carried])
      for k in slices.indices { slices[k].append(out[carried + k]) }
    }
    return state
      + slices.indices.map { k in
        stack(outputReversed[k] ? slices[k].reversed() : slices[k], axis: outputAxes[k], shape: sliceShapes[k])
      }
  }

  private func batchedScan(
    _ own: [Variable], hasLengths: Bool, inputReversed: [Bool], _ enclosing: [String: Variable],
    context: inout ForwardContext
  ) -> [Variable] {
    let lengths = hasLengths ? own[0].value.scalars.map { Int($0) } : nil
    let rest = Array(own[(hasLengths ? 1 : 0)...])
    let (batch, steps) = (rest[0].shape[0], rest[carried].shape[1])
    // No batch entry: the states are their own (empty) finals.
    guard batch > 0 else { return Array(rest[..<carried]) + sliceShapes.map { Variable(.zeros([0, steps] + $0)) } }
    let scanOutputs = bodyOutputs.count - carried
    var entries = Array(repeating: [Variable](), count: bodyOutputs.count)
    for b in 0..<batch {
      var sample = rest.map { ONNXOp.gather($0, axis: 0, indices: [b], indicesShape: []) }
      let length = min(max(lengths?[b] ?? steps, 0), steps)
      for j in carried..<sample.count where length < steps {
        sample[j] = ONNXOp.slice(sample[j], starts: [0], ends: [length], axes: [0], steps: [1])
      }
      let out = scan(
        sample, inputAxes: inputReversed.map { _ in 0 }, inputReversed: inputReversed,
        outputAxes: Array(repeating: 0, count: scanOutputs),
        outputReversed: Array(repeating: false, count: scanOutputs),
        enclosing, context: &context)
      if failures?.hasFailed == true { return out }
      for (k, v) in out.enumerated() {
        guard k >= carried, length < steps else {
          entries[k].append(v)
          continue
        }
        let padding = Variable(.zeros([steps - length] + v.shape.dropFirst()))
        entries[k].append(length == 0 ? padding : Variable.concatenate([v, padding], axis: 0))
      }
    }
    return entries.map { stack($0, axis: 0, shape: []) }
  }

  /// Slices joined along a new axis `axis`; none gives a tensor of `shape` with a size-0 axis.
  private func stack(_ parts: [Variable], axis: Int, shape: [Int]) -> Variable {
    guard let first = parts.first else {
      var empty = shape
      empty.insert(0, at: min(axis, empty.count))
      return Variable(.zeros(empty))
    }
    let widened = { (v: Variable) -> Variable in
      var s = v.shape
      s.insert(1, at: axis)
      return v.reshaped(s)
    }
    return parts.count == 1 ? widened(first) : Variable.concatenate(parts.map(widened), axis: axis)
  }

  func copy() -> ONNXLoopBody {
    let copy = ONNXLoopBody(
      kind: kind, nodes: nodes.map { Node($0.name, $0.layer.copy(), inputs: $0.inputs) }, bodyInputs: bodyInputs,
      bodyOutputs: bodyOutputs, captured: captured, carried: carried, sliceShapes: sliceShapes)
    (copy.group, copy.owner) = (group, owner)
    return copy
  }
}

/// One output of an ONNX `Loop` or `Scan`: it takes the node's inputs (absent ones left out),
/// then the captured values (`ONNXLoopBody.captured`). In a model file the first output's layer
/// holds the body, as for `If` (`ONNXSubgraphFile`).
public final class ONNXLoop: Layer {
  /// Set once; a layer read from a file before its body's owner is linked to it after.
  public internal(set) var body: ONNXLoopBody
  public let output: Int

  public init(_ body: ONNXLoopBody, output: Int) {
    self.body = body
    self.output = output
  }

  public func copy() -> Layer { ONNXLoop(body.copy(), output: output) }

  public var kernelName: String {
    if case .scan = body.kind { return "scan" }
    return "loop"
  }

  public func forward(_ inputs: [Variable], context: inout ForwardContext) -> Variable {
    body.run(inputs, context: &context)[output]
  }

  public var spec: LayerSpec { ONNXSubgraphFile.spec(of: self) }
}
