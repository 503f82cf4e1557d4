import CKernels

/// One step of a model's graph: a named layer and the names of the values it reads
/// ("input" is the model's input; any other name is an earlier node's output).
public struct Node {
  public var name: String
  public var layer: Layer
  public var inputs: [String]

  public init(_ name: String, _ layer: Layer, inputs: [String]) {
    self.name = name
    self.layer = layer
    self.inputs = inputs
  }
}

/// A model: a graph of named layers in execution order, its input shape, and a record of how
/// it was made. Parameters are addressed as "node.parameter" (`fc1.weight`), the names used in
/// model files, masks, pruning and quantization.
public final class Model {
  public var architecture: String
  /// The shape of one example, without the batch axis ([1, 28, 28] or [784]).
  public var inputShape: [Int]
  public var classCount: Int
  public private(set) var nodes: [Node] {
    didSet { inputSlots = Model.slots(nodes) }
  }
  /// For each node, where its inputs are in the forward pass's value list (0 = the input,
  /// i + 1 = node i): resolved once, so a forward pass does no name lookups.
  private var inputSlots: [[Int]] = []
  /// Free-form facts about the model (dataset, epochs, accuracy), kept in its file.
  public var metadata: [String: String]

  public init(architecture: String, inputShape: [Int], classCount: Int, nodes: [Node], metadata: [String: String] = [:])
    throws(ModelError)
  {
    guard !nodes.isEmpty else { throw .emptyGraph }
    var seen: Set<String> = ["input"]
    for node in nodes {
      for input in node.inputs where !seen.contains(input) { throw .unknownInput(node: node.name, input: input) }
      guard seen.insert(node.name).inserted else { throw .duplicateNode(node.name) }
    }
    self.architecture = architecture
    self.inputShape = inputShape
    self.classCount = classCount
    self.nodes = nodes
    self.metadata = metadata
    inputSlots = Model.slots(nodes)
  }

  private static func slots(_ nodes: [Node]) -> [[Int]] {
    var position = ["input": 0]
    for (i, node) in nodes.enumerated() { position[node.name] = i + 1 }
    return nodes.map { $0.inputs.map { position[$0]! } }
  }

  /// A sequential model: each node reads the previous one.
  public convenience init(
    architecture: String, inputShape: [Int], classCount: Int, sequence: [(String, Layer)]
  ) throws(ModelError) {
    var previous = "input"
    let nodes = sequence.map { name, layer in
      defer { previous = name }
      return Node(name, layer, inputs: [previous])
    }
    try self.init(architecture: architecture, inputShape: inputShape, classCount: classCount, nodes: nodes)
  }

  /// Runs the graph. The output is the last node's value. `observe`, when given, sees every
  /// node with its inputs and output (calibration, feature distillation).
  public func forward(
    _ input: Variable, context: inout ForwardContext,
    observe: ((_ node: Node, _ inputs: [Variable], _ output: Variable) -> Void)? = nil
  ) -> Variable {
    lk_flush_subnormals()  // per thread; callers may be any thread (cpu.c)
    var values = [Variable?](repeating: nil, count: nodes.count + 1)
    values[0] = input
    var last = input
    for (i, node) in nodes.enumerated() {
      let inputs = inputSlots[i].map { values[$0]! }
      last = node.layer.forward(inputs, context: &context)
      observe?(node, inputs, last)
      values[i + 1] = last
    }
    return last
  }

  /// Removes a single-input node, making its readers read its input instead (a ReLU folded
  /// into the layer before it, an identity).
  public func bypassNode(named name: String) {
    guard let index = nodes.firstIndex(where: { $0.name == name }), nodes[index].inputs.count == 1,
      index != nodes.count - 1
    else { preconditionFailure("cannot bypass \(name)") }
    let source = nodes[index].inputs[0]
    var rewired = nodes
    rewired.remove(at: index)
    for i in rewired.indices { rewired[i].inputs = rewired[i].inputs.map { $0 == name ? source : $0 } }
    nodes = rewired
  }

  /// The nodes that read `name`'s output.
  public func readers(of name: String) -> [Node] { nodes.filter { $0.inputs.contains(name) } }

  /// Logits for a batch, in evaluation mode, building no autodiff graph.
  public func predict(_ inputs: Tensor<Float>) -> Tensor<Float> {
    GradientRecording.disabled {
      var context = ForwardContext.inference
      return forward(Variable(inputs), context: &context).value
    }
  }

  /// Every node's output shape for a batch of one, in node order (for `inspect`).
  public func outputShapes() -> [String: [Int]] {
    GradientRecording.disabled {
      var shapes: [String: [Int]] = [:]
      var values: [String: Variable] = ["input": Variable(.zeros([1] + inputShape))]
      var context = ForwardContext.inference
      for node in nodes {
        let out = node.layer.forward(node.inputs.map { values[$0]! }, context: &context)
        values[node.name] = out
        shapes[node.name] = out.shape
      }
      return shapes
    }
  }

  /// All parameters and state by full name ("fc1.weight"), in node order.
  public var namedParameters: [(name: String, parameter: Parameter)] {
    nodes.flatMap { node in node.layer.parameters.map { ("\(node.name).\($0.name)", $0.parameter) } }
  }

  public func parameter(named name: String) -> Parameter? {
    namedParameters.first { $0.name == name }?.parameter
  }

  /// Trainable parameters that are not frozen: what an optimizer updates.
  public var trainableParameters: [Parameter] {
    namedParameters.map(\.parameter).filter { $0.isTrainable && !$0.isFrozen }
  }

  /// Number of trainable scalars (weights and biases; not running statistics).
  public var parameterCount: Int {
    namedParameters.filter { $0.parameter.isTrainable }.reduce(0) { $0 + $1.parameter.value.count }
  }

  /// Replaces the layer of the node called `name` (quantized or pruned versions of a layer).
  public func replaceLayer(named name: String, with layer: Layer) {
    guard let index = nodes.firstIndex(where: { $0.name == name }) else { preconditionFailure("no node \(name)") }
    nodes[index].layer = layer
  }

  /// An independent copy: changing one model's parameters never changes the other's.
  public func copy() -> Model {
    // The graph was valid when this model was built, so rebuilding it cannot fail.
    try! Model(
      architecture: architecture, inputShape: inputShape, classCount: classCount,
      nodes: nodes.map { Node($0.name, $0.layer.copy(), inputs: $0.inputs) }, metadata: metadata)
  }
}
