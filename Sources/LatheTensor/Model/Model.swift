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

/// A graph input beyond the first: an attention mask beside token ids, a recurrent state.
/// Its shape is the whole tensor's, batch axis included wherever the file put it, with -1 for
/// a size the file leaves open.
public struct ModelInput: Codable, Equatable, Sendable {
  /// The value name nodes read it by.
  public var name: String
  public var shape: [Int]
  /// The ONNX element type the file declares ("int64", "float"), for messages and feeds.
  public var elementType: String

  /// The shape with example sizes where `shape` leaves them open: what shape checks feed.
  public var exampleShape: [Int]
  /// The name the model's file gives it ("attention_mask"): a dataset's arrays are keyed so.
  public var sourceName: String
  /// The axis that is the batch (the model's first input's batch size), if it has one.
  public var batchAxis: Int?

  public init(
    name: String, shape: [Int], exampleShape: [Int]? = nil, elementType: String = "float", sourceName: String? = nil,
    batchAxis: Int? = nil
  ) {
    self.name = name
    self.shape = shape
    self.exampleShape = exampleShape ?? shape.map { $0 < 0 ? 1 : $0 }
    self.elementType = elementType
    self.sourceName = sourceName ?? name
    self.batchAxis = batchAxis
  }

  enum CodingKeys: String, CodingKey {
    case name, shape
    case exampleShape = "example_shape"
    case elementType = "element_type"
    case sourceName = "source_name"
    case batchAxis = "batch_axis"
  }
}

/// A model: a graph of named layers in execution order, its input shape, and a record of how
/// it was made. Parameters are addressed as "node.parameter" (`fc1.weight`), the names used in
/// model files, masks, pruning and quantization.
public final class Model {
  public var architecture: String
  /// The shape of one example, without the batch axis ([1, 28, 28] or [784]).
  public var inputShape: [Int]
  /// Axes of `inputShape` whose size the model leaves open (an OCR line's width, a sentence's
  /// length): `inputShape` holds an example size there, and any size runs.
  public var symbolicAxes: [Int] = []
  /// Inputs after the first, fed with `forward(feeds:)`.
  public private(set) var extraInputs: [ModelInput] = []
  /// Outputs after the first (the last node's), by node name.
  public var extraOutputs: [String] = []
  public var classCount: Int
  public private(set) var nodes: [Node] {
    didSet { (inputSlots, lastReader, position) = Model.slots(nodes, extraInputs) }
  }
  /// For each node, where its inputs are in the forward pass's value list (0 = the input,
  /// i + 1 = node i): resolved once, so a forward pass does no name lookups.
  private var inputSlots: [[Int]] = []
  /// For each value slot, the last node that reads it: a forward pass drops a value after its
  /// last reader, so peak memory is the live activations, not every one of them.
  private var lastReader: [Int] = []
  /// Each value's slot by name (the input, the extra inputs, every node), for `extraOutputs`.
  private var position: [String: Int] = [:]
  /// Free-form facts about the model (dataset, epochs, accuracy), kept in its file.
  public var metadata: [String: String]

  public init(
    architecture: String, inputShape: [Int], classCount: Int, nodes: [Node], metadata: [String: String] = [:],
    extraInputs: [ModelInput] = []
  ) throws(ModelError) {
    guard !nodes.isEmpty else { throw .emptyGraph }
    var seen: Set<String> = ["input"]
    for input in extraInputs {
      guard seen.insert(input.name).inserted else { throw .duplicateNode(input.name) }
    }
    for node in nodes {
      for input in node.inputs where !seen.contains(input) { throw .unknownInput(node: node.name, input: input) }
      guard seen.insert(node.name).inserted else { throw .duplicateNode(node.name) }
    }
    self.architecture = architecture
    self.inputShape = inputShape
    self.classCount = classCount
    self.nodes = nodes
    self.metadata = metadata
    self.extraInputs = extraInputs
    (inputSlots, lastReader, position) = Model.slots(nodes, extraInputs)
  }

  /// Value positions (0 the input, then the extra inputs, then each node) that each node reads,
  /// each position's last reader (-1: none), and every value's position by name.
  private static func slots(_ nodes: [Node], _ extraInputs: [ModelInput]) -> ([[Int]], [Int], [String: Int]) {
    var position = ["input": 0]
    for (i, input) in extraInputs.enumerated() { position[input.name] = i + 1 }
    for (i, node) in nodes.enumerated() { position[node.name] = i + 1 + extraInputs.count }
    let slots = nodes.map { $0.inputs.map { position[$0]! } }
    var last = [Int](repeating: -1, count: nodes.count + extraInputs.count + 1)
    for (i, reads) in slots.enumerated() { for slot in reads { last[slot] = i } }
    return (slots, last, position)
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
  /// node with its inputs and output (calibration, feature distillation). A model with extra
  /// inputs runs through `forward(feeds:)`; callers check `extraInputs` first.
  public func forward(
    _ input: Variable, context: inout ForwardContext,
    observe: ((_ node: Node, _ inputs: [Variable], _ output: Variable) -> Void)? = nil
  ) -> Variable {
    precondition(extraInputs.isEmpty, "a model of \(extraInputs.count + 1) inputs runs with forward(feeds:)")
    return forward(feeds: [input], context: &context, observe: observe)[0]
  }

  /// Runs the graph on one value per input (the first, then `extraInputs`), returning the
  /// first output (the last node's) and then `extraOutputs`.
  public func forward(
    feeds: [Variable], context: inout ForwardContext,
    observe: ((_ node: Node, _ inputs: [Variable], _ output: Variable) -> Void)? = nil
  ) -> [Variable] {
    precondition(feeds.count == extraInputs.count + 1, "\(extraInputs.count + 1) inputs, got \(feeds.count)")
    lk_flush_subnormals()  // per thread; callers may be any thread (cpu.c)
    var values = [Variable?](repeating: nil, count: nodes.count + feeds.count)
    for (i, feed) in feeds.enumerated() { values[i] = feed }
    var last = feeds[0]
    let kept = Set(extraOutputs.compactMap { position[$0] })
    // One task-local read per pass; inside `RunFailure.checking` the pass stops at the node
    // that recorded a failure, whose zeros the caller drops when it throws.
    let failures = RunFailure.log
    for (i, node) in nodes.enumerated() {
      let inputs = inputSlots[i].map { values[$0]! }
      last = node.layer.forward(inputs, context: &context)
      if let failures, failures.hasFailed {
        failures.name(node: node.name)
        return [last] + extraOutputs.map { _ in last }
      }
      observe?(node, inputs, last)
      values[i + feeds.count] = last
      for slot in inputSlots[i] where lastReader[slot] == i && !kept.contains(slot) { values[slot] = nil }
    }
    guard !extraOutputs.isEmpty else { return [last] }
    return [last] + extraOutputs.map { values[position[$0] ?? 0]! }
  }

  /// Every output for a batch of inputs, in evaluation mode, building no autodiff graph. A
  /// failure only the fed sizes reveal (`RunFailure`) stops the program; `checkedPredict`
  /// throws it instead.
  public func predict(feeds: [Tensor<Float>]) -> [Tensor<Float>] {
    GradientRecording.disabled {
      var context = ForwardContext.inference
      return forward(feeds: feeds.map { Variable($0) }, context: &context).map(\.value)
    }
  }

  /// `predict(feeds:)`, throwing the first failure a layer records (a run-time shape that does
  /// not fit), named with the model's source file where it has one.
  public func checkedPredict(feeds: [Tensor<Float>]) throws(RunFailure) -> [Tensor<Float>] {
    try RunFailure.checking(file: sourceFile) { predict(feeds: feeds) }
  }

  /// The file the model was imported from, for messages (`onnx.file` for ONNX models).
  public var sourceFile: String? { metadata["onnx.file"] }

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

  /// Puts a single-input node reading `name` right after it, making `name`'s readers read the
  /// new node instead: `bypassNode` undone (a ReLU folded into a layer taken out again).
  public func insertNode(_ layer: Layer, named newName: String, after name: String) {
    guard let index = nodes.firstIndex(where: { $0.name == name }), !nodes.contains(where: { $0.name == newName })
    else { preconditionFailure("cannot insert \(newName) after \(name)") }
    var rewired = nodes
    for i in rewired.indices { rewired[i].inputs = rewired[i].inputs.map { $0 == name ? newName : $0 } }
    rewired.insert(Node(newName, layer, inputs: [name]), at: index + 1)
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

  /// Every node's output shape for a batch of one, in node order (for `inspect`), at
  /// `exampleShape` (a model with open sizes runs at any; default `inputShape`). The pass is
  /// `forward(feeds:)`'s, which drops each value after its last reader: holding every
  /// activation to the end took 100 MB for paraphrase-MiniLM-L3's 66 MB of weights.
  ///
  /// The pass feeds zeros, and zeros can take a path real inputs never do (Silero VAD's sample
  /// rate 0 picks its 8 kHz network for a 16 kHz chunk, which cannot run). Inside a
  /// `RunFailure.checking` the failure goes to that caller; outside one the nodes before the
  /// failing node keep their shapes and the rest have none, instead of stopping the program.
  public func outputShapes(exampleShape: [Int]? = nil) -> [String: [Int]] {
    outputShapes(
      feeds: [.zeros([1] + (exampleShape ?? inputShape))] + extraInputs.map { .zeros($0.exampleShape) })
  }

  /// Every node's output shape for `feeds`, one per input: a dataset's first example
  /// (`feeds(data, 0..<1)`) gives every input the data's sizes, where zeros at the example
  /// sizes would give a sentence's ids the data's length and its mask the file's probe length.
  public func outputShapes(feeds tensors: [Tensor<Float>]) -> [String: [Int]] {
    // Shapes only: no Linear keeps a packed copy of its weight for this one pass.
    PackedWeight.skipping {
      GradientRecording.disabled {
        var shapes: [String: [Int]] = [:]
        let feeds = tensors.map { Variable($0) }
        let pass = {
          var context = ForwardContext.inference
          _ = self.forward(feeds: feeds, context: &context) { node, _, output in shapes[node.name] = output.shape }
        }
        if RunFailure.log == nil {
          _ = try? RunFailure.checking(pass)
        } else {
          pass()
        }
        return shapes
      }
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
    let copy = try! Model(
      architecture: architecture, inputShape: inputShape, classCount: classCount,
      nodes: nodes.map { Node($0.name, $0.layer.copy(), inputs: $0.inputs) }, metadata: metadata,
      extraInputs: extraInputs)
    copy.symbolicAxes = symbolicAxes
    copy.extraOutputs = extraOutputs
    return copy
  }
}
